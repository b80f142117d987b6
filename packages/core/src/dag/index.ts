export {
  DagRunState,
  DagNodeState,
  DagFailurePolicy,
  DagEvent,
  DagNodeKey,
  DagNodeSpecSchema,
  DagSpecSchema,
  DEFAULT_DAG_MAX_NODES,
  DEFAULT_DAG_MAX_EDGES,
  type DagSpec,
  type DagNodeSpec,
  type DagLimits,
} from './spec.js';
export type { DagRun, DagNode, DagEdge, DagRunDetail } from './read.js';
export { DagEngine, type SubmittedDag } from './engine.js';
