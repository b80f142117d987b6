/**
 * A run's expected wall time, printed at the start: per (system, scenario) the measured phase
 * from the parameters plus the setup each scenario pays (reset and checkpoint, preload, VACUUM,
 * spawning worker processes). Setup seconds are rough figures from runs on this 2-core machine;
 * drain rates are the slow end (BullMQ and graphile-worker), so the estimate errs long.
 */
import { SCENARIOS } from '../scenarios/index.mjs';
import { runsScenario } from '../systems/index.mjs';

const SYSTEM_SETUP_S = 6; // runner start on its Node, CREATE DATABASE, install/migrate, DROP DATABASE

function scenarioSeconds(id, p, system) {
  const slowDrain = system === 'bullmq' || system === 'graphile-worker' ? 2500 : 15000; // jobs/s, the slow end
  switch (id) {
    case 'enqueue-single': return (p.enqueueSingle.seconds ?? 30) + 4;
    case 'enqueue-bulk': return 3 + p.enqueueBulk.total / 20000;
    case 'drain-1p': case 'drain-4p': return 8 + p.drain.total / 20000 + p.drain.total / slowDrain;
    case 'latency-200': case 'latency-2000': return p.latency.seconds + 6;
    case 'steady': case 'long-tx': return p.steady.seconds + 6;
    case 'long-horizon': return p.longHorizon.cleanS + p.longHorizon.idleTxS + p.longHorizon.recoveryS + 8;
    case 'big-table': return 8 + (2 * p.bigTable) / 60000 + p.drain.total / 20000 + p.drain.total / slowDrain;
    case 'dag': return 10;
    default: return id.startsWith('wake-') ? p.latency.seconds + 6 : 20;
  }
}

/** Estimated seconds for `systems` × `scenarioIds` in `mode` with `params`. */
export function estimateSeconds(systems, scenarioIds, mode, params) {
  let s = 3;
  for (const system of systems) {
    s += SYSTEM_SETUP_S;
    for (const sc of SCENARIOS) if (scenarioIds.includes(sc.id) && runsScenario(system, sc)) s += scenarioSeconds(sc.id, params, system);
  }
  return Math.round(s);
}
