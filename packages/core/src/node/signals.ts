import type { Logger } from 'pino';

/**
 * SIGTERM/SIGINT: the first stops gracefully (then exits 0), the second stops waiting for
 * running jobs and releases them now. Returns the uninstaller.
 */
export function installSignalHandlers(log: Logger, stop: () => Promise<void>, force: () => void): () => void {
  let count = 0;
  const handler = () => {
    count++;
    if (count === 1) {
      log.info('signal received: stopping gracefully (send it again to force)');
      void stop().then(() => process.exit(0));
    } else {
      log.warn('second signal: releasing running jobs now');
      force();
    }
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
