/**
 * A run's expected wall time, printed at the start: per (system, scenario) the measured phase
 * from the parameters plus the setup each scenario pays (reset and checkpoint, preload, VACUUM,
 * spawning worker processes), from earlier runs on this 2-core machine.
 */
import { SCENARIOS } from '../scenarios/index.mjs';
import { runsScenario } from '../systems/index.mjs';

const SYSTEM_SETUP_S = 4; // runner start on its Node, CREATE DATABASE, install/migrate, DROP DATABASE

// Setup per scenario and drain rates: the full run of 2026-12-01 on this machine (wall time of each
// scenario minus its measured phase), with the slow end of each system's drain rate.
function drainSeconds(p, system) {
  const rate = system === 'bullmq' || system === 'graphile-worker' ? 2000 : 10000;
  return 2 + p.drain.total / 30000 + p.drain.total / rate;
}

function scenarioSeconds(id, p, system) {
  switch (id) {
    case 'enqueue-single':
      return (p.enqueueSingle.seconds ?? 30) + 2;
    case 'enqueue-bulk':
      return 1 + p.enqueueBulk.total / 25000;
    case 'drain-1p':
    case 'drain-4p':
      return drainSeconds(p, system);
    case 'latency-200':
    case 'latency-2000':
      return p.latency.seconds + 2.5;
    case 'steady':
    case 'long-tx':
      return p.steady.seconds + 2.5;
    case 'long-horizon':
      return p.longHorizon.cleanS + p.longHorizon.idleTxS + p.longHorizon.recoveryS + 4;
    case 'big-table':
      return 3 + (2 * p.bigTable) / 100000 + drainSeconds(p, system);
    case 'dag':
      return 5;
    default:
      return id.startsWith('wake-') ? p.latency.seconds + 2.5 : 20;
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
