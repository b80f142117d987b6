export {
  ExecutorKind,
  EXECUTOR_KINDS,
  type Executor,
  type ExecutorCapabilities,
  type ExecutorHooks,
  type ExecutionContext,
  type WorkerResources,
} from './types.js';
export { ExecutorSet, type ExecutorsOptions } from './executor-set.js';
export { HandlerExecutor, type HandlerFunction } from './handler.js';
export { ProcessExecutor, ProcessExitError, runProcessJob, processEnv, parseOutput, type ProcessExecutorOptions } from './process.js';
export { ContainerExecutor, type ContainerExecutorOptions } from './container.js';
export { ContainerExitError, ImageMissingError, ImagePullError, BadContainerOutputError } from './container-errors.js';
export { DockerClient, DockerApiError, DockerUnreachableError, resolveDockerSocket, DOCKER_API_VERSION } from './docker-client.js';
export { reapContainers, LABELS as CONTAINER_LABELS } from './container-reaper.js';
export { jobEnv } from './job-env.js';
