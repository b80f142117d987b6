/** Recorded in `workers.version` so mixed deployments can be told apart. */
export const VERSION = '0.1.0';
