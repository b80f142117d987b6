/**
 * One system's part of a run, in its own process on the system's Node line (lib/node-line.mjs):
 * installs the system into its database, runs the scenarios in order and sends each result to
 * the parent (run.mjs) over IPC; worker processes it forks run on the same Node. The producers of
 * the scenarios run here, so they are on that Node too.
 * Parent → child: `interrupt` (finish the current scenario, then stop).
 * Child → parent: `meta` (label, settings, versions), `log`, `result`, `done`.
 */
import os from 'node:os';
import { now } from './clock.mjs';
import { loadSystem, runsScenario } from '../systems/index.mjs';
import { SCENARIOS } from '../scenarios/index.mjs';

const cfg = JSON.parse(process.env.BENCH_RUNNER);
const send = (m) => new Promise((resolve) => (process.connected ? process.send(m, resolve) : resolve()));
const log = (...a) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);
const round = (o) =>
  JSON.parse(JSON.stringify(o, (_, v) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 100) / 100 : v)));

let interrupted = false;
process.on('message', (m) => {
  if (m.type === 'interrupt') interrupted = true;
});
process.on('SIGINT', () => {}); // the parent decides; Ctrl-C reaches the whole process group

const system = await loadSystem(cfg.system);
await send({
  type: 'meta',
  label: system.label,
  settings: system.settings,
  version: (() => {
    try {
      return system.version?.();
    } catch (err) {
      return `unknown (${err.message})`;
    }
  })(),
  node: process.version,
  inFlight: system.inFlight,
});

try {
  await system.install(cfg.url);
  for (const sc of SCENARIOS.filter((s) => cfg.scenarioIds.includes(s.id))) {
    if (interrupted) break;
    if (!runsScenario(cfg.system, sc)) continue;
    const ctx = {
      system,
      url: cfg.url,
      params: cfg.params,
      log,
      sharedServer: cfg.sharedServer,
      cpuProfDir: cfg.cpuProfBase ? (scenario) => `${cfg.cpuProfBase}-${scenario}` : undefined,
    };
    const ts = now();
    let result;
    try {
      // Harness self-test (bench/test/exit-code.test.mjs): make one scenario throw.
      if (process.env.BENCH_FAIL_SCENARIO === sc.id) throw new Error(`injected failure (BENCH_FAIL_SCENARIO=${sc.id})`);
      result = round(await sc.run(ctx));
    } catch (err) {
      result = { error: err?.stack ?? String(err) };
    }
    result.wallSeconds = Math.round((now() - ts) / 100) / 10;
    result.loadAverage1m = Math.round(os.loadavg()[0] * 100) / 100; // the machine may be shared
    await send({ type: 'result', scenario: sc.id, result });
  }
} catch (err) {
  await send({ type: 'result', scenario: 'install', result: { error: err?.stack ?? String(err) } });
}
await send({ type: 'done' });
process.disconnect();
setTimeout(() => process.exit(0), 200).unref();
