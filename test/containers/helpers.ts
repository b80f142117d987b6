/** Asking the real engine about the containers of one test schema (by the executor's labels). */
import { CONTAINER_LABELS, DockerClient, resolveDockerSocket } from '@jobline/core/executors';

export const engine = new DockerClient(resolveDockerSocket());

export interface EngineContainer {
  Id: string;
  State: string;
  Labels: Record<string, string>;
}

/**
 * Containers (running or not) of this scope, and of one job when given. The engine filters by
 * one label only: podman 4.3 ORs several label filters where Docker ANDs them.
 */
export async function containersOf(scope: string, jobId?: number): Promise<EngineContainer[]> {
  const filters = JSON.stringify({ label: [`${CONTAINER_LABELS.scope}=${scope}`] });
  const { value } = await engine.json<EngineContainer[]>('GET', '/containers/json', {
    query: { all: true, filters },
    what: 'listing test containers',
  });
  return (value ?? []).filter(
    (c) => c.Labels[CONTAINER_LABELS.scope] === scope && (jobId === undefined || c.Labels[CONTAINER_LABELS.jobId] === String(jobId)),
  );
}
