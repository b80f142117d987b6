import { ImagePullError } from './container-errors.js';
import type { DockerClient } from './docker-client.js';

/** Image pulls for the container executor (`pullPolicy` "missing" or "always"). */
export class ImagePuller {
  private readonly pulls = new Map<string, Promise<void>>();

  constructor(private readonly client: DockerClient) {}

  /** Pulls an image once even when several jobs need it at the same moment. */
  pull(image: string, signal: AbortSignal): Promise<void> {
    let p = this.pulls.get(image);
    if (!p) {
      p = this.pullOnce(image, signal).finally(() => this.pulls.delete(image));
      this.pulls.set(image, p);
    }
    return p;
  }

  private async pullOnce(image: string, signal: AbortSignal): Promise<void> {
    const at = image.lastIndexOf(':');
    const hasTag = !image.includes('@') && at > image.lastIndexOf('/');
    const query = hasTag ? { fromImage: image.slice(0, at), tag: image.slice(at + 1) } : { fromImage: image };
    const { status, body } = await this.client.call('POST', '/images/create', {
      query,
      signal,
      ok: [404, 500],
      what: `pulling image "${image}"`,
    });
    // The engine streams progress as JSON lines and reports a failed pull in one of them (HTTP 200).
    const lines = body.toString('utf8').split('\n').filter(Boolean);
    const failed = lines.map((l) => safeJson(l)).find((m) => m && typeof m.error === 'string');
    if (status !== 200 || failed) throw new ImagePullError(image, String(failed?.error ?? lines.at(-1) ?? `HTTP ${status}`));
  }
}

function safeJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
