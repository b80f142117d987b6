/** Failures of container jobs, each with a stable `code` and a message that says what to do. */
import { ErrorCode, JoblineError, NonRetryableError } from '../db/errors.js';

export class ContainerExitError extends JoblineError {
  override readonly code = ErrorCode.ContainerExit;
  constructor(
    readonly image: string,
    readonly exitCode: number,
    readonly stderrTail: string,
    readonly oomKilled: boolean,
  ) {
    const why = oomKilled ? ' (killed for exceeding its memory limit: raise resources.memoryMb)' : '';
    super(
      `container of image "${image}" exited with code ${exitCode}${why}${stderrTail ? `; stderr (end):\n${stderrTail}` : ' with no stderr output'}`,
    );
    this.name = 'ContainerExitError';
    this.stack = undefined; // our stack says nothing about the program's failure
  }
}

/** The image is not on the engine and the pull policy forbids pulling: retrying cannot help. */
export class ImageMissingError extends NonRetryableError {
  override readonly code = ErrorCode.ImageMissing;
  constructor(
    readonly image: string,
    socketPath: string,
  ) {
    super(
      `image "${image}" is not on the engine at ${socketPath} and the definition's container.pullPolicy is "never": ` +
        `load it there (docker/podman pull, load or build) or set container.pullPolicy to "if-missing"`,
    );
    this.name = 'ImageMissingError';
  }
}

/** Pulling failed (unknown image, registry unreachable, no credentials): retried, as registries come back. */
export class ImagePullError extends JoblineError {
  override readonly code = ErrorCode.ImagePullFailed;
  constructor(
    readonly image: string,
    engineMessage: string,
  ) {
    super(
      `image "${image}" is not on the engine and pulling it failed: ${engineMessage}; check the image name and that the engine can reach its registry, or load the image and use pullPolicy "never"`,
    );
    this.name = 'ImagePullError';
  }
}

export class BadContainerOutputError extends NonRetryableError {
  override readonly code = ErrorCode.BadOutput;
  constructor(message: string) {
    super(message);
    this.name = 'BadContainerOutputError';
  }
}
