/** The systems a run can measure, in report order. Each module's default export is its adapter. */
const FILES = {
  jobline: 'jobline',
  'jobline-max': 'jobline-max',
  'jobline@node20': 'jobline-node20',
  'jobline@baseline': 'jobline-baseline',
  raw: 'raw',
  'floor-min': 'floor-min',
  'pg-boss': 'pg-boss',
  'graphile-worker': 'graphile-worker',
  bullmq: 'bullmq',
};
export const SYSTEMS = Object.keys(FILES);
/** `jobline@baseline` runs only when a baseline checkout is given (--baseline / JOBLINE_BASELINE_DIR). */
export const DEFAULT_SYSTEMS = SYSTEMS.filter((s) => s !== 'jobline@baseline');
// Quick (CI's smoke step, ≤ 2 min): Jobline on Node 24, the minimal floor, one peer. jobline@node20 is the
// same code on another Node (the exit-code test runs the harness on the machine's Node).
export const QUICK_SYSTEMS = ['jobline', 'floor-min', 'pg-boss'];

/**
 * The scenarios a system runs, where not all (in the parent too, which doesn't load the adapters:
 * the peers' current releases want Node ≥ 22). Enqueue, latency and the DAG are the same code for
 * `jobline-max` as for `jobline` (in-flight limits none of them); the Node-20 and baseline rows
 * take the rows where they differ; the floors are not products (no DAG, no long-horizon target).
 */
const MOST = ['enqueue-single', 'enqueue-bulk', 'drain-1p', 'drain-4p', 'latency-200', 'latency-2000'];
export const SCENARIO_SCOPE = {
  'jobline-max': ['drain-1p', 'drain-4p', 'steady', 'long-tx', 'big-table'],
  'jobline@node20': MOST,
  'jobline@baseline': [...MOST, 'steady', 'long-horizon'],
  raw: [...MOST, 'steady', 'long-tx', 'big-table'],
  'floor-min': [...MOST, 'steady', 'long-tx', 'big-table'],
};
export const runsScenario = (system, scenario) =>
  (scenario.only ? scenario.only.includes(system) : true) && (SCENARIO_SCOPE[system]?.includes(scenario.id) ?? true);

export async function loadSystem(name) {
  if (!FILES[name]) throw new Error(`unknown system "${name}"; known: ${SYSTEMS.join(', ')}`);
  return (await import(`./${FILES[name]}.mjs`)).default;
}

/**
 * The Node line a system's processes run on: Node 24 for every system (BENCH_NODE overrides, e.g.
 * `machine` to run everything on the machine's Node offline), the machine's for `jobline@node20`.
 */
export const nodeLineOf = (name) => (name === 'jobline@node20' ? 'machine' : (process.env.BENCH_NODE ?? '24'));
