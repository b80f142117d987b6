/**
 * The demo's handler module, loaded by the two worker processes (`--handlers`). Each handler is
 * a small stand-in for real work, with the behaviours worth seeing: progress, retries that
 * succeed later, and a job that fails for good.
 */
import type { JobContext } from '@jobline/core';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });
const between = (a: number, b: number) => a + Math.random() * (b - a);

export default {
  /** Fast and plentiful. */
  async 'send-email'(input: { to: string; template: string }, ctx: JobContext) {
    await sleep(between(5, 40), ctx.signal);
    return { messageId: `msg-${ctx.job.id}`, to: input.to };
  },

  /** Slower, reports progress as it goes. */
  async 'render-report'(input: { report: string; pages: number }, ctx: JobContext) {
    for (let page = 1; page <= input.pages; page++) {
      await sleep(between(20, 60), ctx.signal);
      await ctx.progress(Math.round((page / input.pages) * 100));
    }
    return { report: input.report, pages: input.pages, bytes: input.pages * 48_213 };
  },

  /** The payment gateway times out on the first two attempts of flaky charges. */
  async 'charge-card'(input: { order: string; cents: number; flaky?: boolean }, ctx: JobContext) {
    await sleep(between(10, 30), ctx.signal);
    if (input.flaky && ctx.attempt <= 2)
      throw Object.assign(new Error('payment gateway timed out (HTTP 504)'), { code: 'GATEWAY_TIMEOUT' });
    return { order: input.order, charged: input.cents, attempt: ctx.attempt };
  },

  /** Always fails: the ledger file is corrupt, so every attempt fails the same way. */
  async 'import-ledger'(input: { file: string }, ctx: JobContext) {
    await sleep(between(10, 30), ctx.signal);
    throw Object.assign(new Error(`${input.file}: checksum mismatch at row 1,204 (the ledger file is corrupt)`), { code: 'CORRUPT_INPUT' });
  },
};
