/**
 * The container tests need a Docker Engine API: JOBLINE_DOCKER_SOCKET (or DOCKER_HOST) set by
 * `source .ci/podman.sh`, and the image it builds. Missing either is a failure, never a skip.
 */
import { DockerClient, resolveDockerSocket } from '@jobline/core/executors';

export const TEST_IMAGE = 'localhost/jobline-busybox:latest';

export async function setup(): Promise<void> {
  const client = new DockerClient(resolveDockerSocket());
  try {
    await client.call('GET', '/_ping', { what: 'pinging the engine' });
  } catch (err) {
    throw new Error(
      `the container tests need a Docker Engine API: ${(err as Error).message}. Run them with \`npm run test:containers\` (it sources .ci/podman.sh)`,
    );
  }
  const { status } = await client.call('GET', `/images/${TEST_IMAGE}/json`, { ok: [404], what: 'looking for the test image' });
  if (status === 404) throw new Error(`the test image ${TEST_IMAGE} is missing on the engine; \`source .ci/podman.sh\` builds it`);
}
