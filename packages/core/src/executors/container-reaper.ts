/**
 * Containers whose worker is gone. A worker killed with SIGKILL cannot remove its containers,
 * and the engine keeps running them. Every container the executor creates carries labels naming
 * its scope (database/schema) and worker; a container of this scope whose worker is not alive
 * (no fresh heartbeat, or stopped) is killed and removed. This runs when a container-capable
 * worker starts (also taking containers labelled with its own id: a previous process that had the
 * same stable id) and in the leader's rescue pass, right after the jobs of dead workers are rescued.
 */
import type { DockerClient } from './docker-client.js';
import type { ExecutorHooks } from './types.js';

export const LABELS = {
  scope: 'dev.jobline.scope',
  worker: 'dev.jobline.worker-id',
  jobId: 'dev.jobline.job-id',
  attempt: 'dev.jobline.attempt',
  definition: 'dev.jobline.definition',
} as const;

interface ListedContainer {
  Id: string;
  Labels?: Record<string, string>;
}

/** Lists this scope's containers (running or not) and removes those of workers that are not alive. Returns how many. */
export async function reapContainers(client: DockerClient, hooks: ExecutorHooks, o: { includeSelf: boolean }): Promise<number> {
  const filters = JSON.stringify({ label: [`${LABELS.scope}=${hooks.scope}`] });
  const { value } = await client.json<ListedContainer[]>('GET', '/containers/json', {
    query: { all: true, filters },
    what: 'listing containers to reap',
  });
  if (!value?.length) return 0;
  const live = await hooks.liveWorkerIds();
  const orphans = value.filter((c) => {
    const w = c.Labels?.[LABELS.worker];
    if (!w || c.Labels?.[LABELS.scope] !== hooks.scope) return false; // the filter is the engine's; checked again
    return w === hooks.workerId ? o.includeSelf : !live.has(w);
  });
  await Promise.all(
    orphans.map((c) =>
      client.call('DELETE', `/containers/${c.Id}`, { query: { force: true, v: true }, ok: [404, 409], what: `reaping container ${c.Id}` }),
    ),
  );
  return orphans.length;
}
