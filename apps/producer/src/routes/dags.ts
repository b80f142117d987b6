import type { ProducerState } from '../state.js';
import type { Route } from '../http/router.js';

/** DAG endpoints: wired once the core DAG module (jl.submitDag/getDag/cancelDag) lands. */
export function dagRoutes(_st: ProducerState): Route[] {
  return [];
}
