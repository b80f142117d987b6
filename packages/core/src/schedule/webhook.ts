/**
 * The webhook client for `webhook` actions and pre/post-run hooks: a JSON POST with a per-attempt
 * timeout, retries with doubling delay on network errors, timeouts, 429 and 5xx (a 4xx other
 * than 429 is the receiver saying no, so it is not retried), and an HMAC-SHA256 signature.
 *
 * Signature (Stripe-style, so a receiver can reject replays):
 *   X-Jobline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 * X-Jobline-Delivery carries an id that stays the same across retries and across a scheduler
 * takeover that re-sends (webhooks are delivered at least once): receivers dedupe on it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { backoffDelay } from '../lib/backoff.js';
import { VERSION } from '../version.js';
import type { ResolvedWebhookConfig } from './schema.js';

export const SIGNATURE_HEADER = 'x-jobline-signature';
export const DELIVERY_HEADER = 'x-jobline-delivery';

export interface WebhookResult {
  ok: boolean;
  /** HTTP status of the last attempt (absent when no response arrived). */
  status?: number;
  attempts: number;
  error?: string;
  durationMs: number;
}

export function sign(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** For receivers: true when `header` is a valid signature of `body` made within `toleranceSec`. */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  body: string,
  toleranceSec = 300,
  nowMs = Date.now(),
): boolean {
  if (!header) return false;
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1 || Math.abs(nowMs / 1000 - t) > toleranceSec) return false;
  const expected = Buffer.from(sign(secret, t, body).split('v1=')[1], 'hex');
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function secretOf(cfg: ResolvedWebhookConfig): string | undefined {
  if (cfg.secretEnv) return process.env[cfg.secretEnv] ?? cfg.secret;
  return cfg.secret;
}

const retryable = (status: number) => status === 429 || status >= 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends `payload` as JSON; never throws (the outcome is recorded, not raised). */
export async function sendWebhook(cfg: ResolvedWebhookConfig, payload: unknown, deliveryId: string): Promise<WebhookResult> {
  const body = JSON.stringify(payload);
  const secret = secretOf(cfg);
  const started = performance.now();
  let last: WebhookResult = { ok: false, attempts: 0, durationMs: 0 };
  for (let attempt = 1; attempt <= cfg.retries + 1; attempt++) {
    if (attempt > 1) await sleep(backoffDelay(attempt - 2, { baseMs: cfg.retryDelayMs })); // retryDelayMs, doubling, no cap (retries are few)
    const headers: Record<string, string> = {
      ...cfg.headers,
      'content-type': 'application/json',
      'user-agent': `jobline-scheduler/${VERSION}`,
      [DELIVERY_HEADER]: deliveryId,
    };
    if (secret) headers[SIGNATURE_HEADER] = sign(secret, Math.floor(Date.now() / 1000), body);
    try {
      const res = await fetch(cfg.url, {
        method: cfg.method,
        headers,
        body,
        signal: AbortSignal.timeout(cfg.timeoutMs),
        redirect: 'manual',
      });
      await res.arrayBuffer().catch(() => undefined); // drain, so the connection is reused
      last = { ok: res.status >= 200 && res.status < 300, status: res.status, attempts: attempt, durationMs: 0 };
      if (last.ok || !retryable(res.status)) break;
    } catch (err) {
      const e = err as Error;
      const reason = e.name === 'TimeoutError' ? `timed out after ${cfg.timeoutMs} ms` : ((e.cause as Error)?.message ?? e.message);
      last = { ok: false, attempts: attempt, error: reason, durationMs: 0 };
    }
  }
  last.durationMs = Math.round(performance.now() - started);
  return last;
}
