/**
 * `jobline` on the machine's own Node (20 here) instead of Node 24: the same core and settings,
 * on the rows where the Node line shows (enqueue CPU, drain, latency).
 */
import { makeJobline } from './jobline.mjs';

export default makeJobline({
  name: 'jobline@node20',
  label: "Jobline (machine's Node)",
  node: 'machine',
});
