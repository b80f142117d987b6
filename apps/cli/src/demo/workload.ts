/**
 * The demo's workload, enqueued through the producer's HTTP API like a real service would:
 * plenty of quick emails, slower reports with progress, process jobs by definition, payments
 * that succeed on their third attempt, and a ledger import that fails for good. Along the way
 * it shows an idempotent retry of a request and a request refused with field errors.
 */
export type Api = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>;

export function apiClient(base: string, token: string): Api {
  return async (method, path, body) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
}

// A process job: Node itself, so the demo needs nothing installed. Reads the input JSON on
// stdin, logs to stderr, prints its result as JSON on stdout.
const THUMBNAIL_SCRIPT = `
let s = ''; process.stdin.on('data', (d) => (s += d)).on('end', () => {
  const i = JSON.parse(s);
  const sha = require('crypto').createHash('sha256').update(i.image + ':' + i.width).digest('hex').slice(0, 12);
  setTimeout(() => {
    console.error('resized ' + i.image + ' to ' + i.width + 'px');
    console.log(JSON.stringify({ thumbnail: i.image.replace(/\\.\\w+$/, '') + '-' + i.width + '.webp', sha256: sha, pid: process.pid }));
  }, 80 + Math.random() * 150);
});`;

export const THUMBNAIL_DEFINITION = {
  name: 'thumbnail',
  executor: 'process',
  command: process.execPath,
  args: ['-e', THUMBNAIL_SCRIPT],
  env: { THUMBNAIL_FORMAT: 'webp' },
  resources: { cpu: 0.25, memoryMb: 128 },
  inputSchema: {
    type: 'object',
    properties: { image: { type: 'string', minLength: 1 }, width: { type: 'integer', minimum: 16, maximum: 4096 } },
    required: ['image', 'width'],
    additionalProperties: false,
  },
  defaults: { queue: 'media', maxAttempts: 3, timeoutMs: 10_000 },
};

export interface Enqueued {
  total: number;
  byQueue: Record<string, number>;
  failingJobId: number;
  flakyJobId: number;
  notes: string[];
}

const EMAILS = 400;
const REPORTS = 24;
const THUMBNAILS = 8;
const CHARGES = 6;

export async function enqueueWorkload(api: Api): Promise<Enqueued> {
  const notes: string[] = [];
  const byQueue: Record<string, number> = {};
  const count = (q: string, n: number) => (byQueue[q] = (byQueue[q] ?? 0) + n);
  const expect = (r: { status: number; body: any }, ok: number[], what: string) => {
    if (!ok.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  const def = expect(await api('POST', '/v1/definitions', THUMBNAIL_DEFINITION), [200, 201], 'registering the thumbnail definition');
  notes.push(`registered process definition ${def.name}@${def.version} (POST /v1/definitions)`);

  // Emails in two batches of 200 (one INSERT each).
  for (let b = 0; b < EMAILS / 200; b++) {
    const jobs = Array.from({ length: 200 }, (_, i) => ({
      queue: 'emails',
      name: 'send-email',
      input: { to: `user${b * 200 + i}@example.com`, template: i % 3 ? 'receipt' : 'welcome' },
      priority: i % 10 === 0 ? -1 : 0,
    }));
    expect(await api('POST', '/v1/jobs/batch', { jobs }), [201], 'enqueueing emails');
  }
  count('emails', EMAILS);

  const reports = Array.from({ length: REPORTS }, (_, i) => ({
    queue: 'reports',
    name: 'render-report',
    input: { report: `monthly-${i + 1}`, pages: 3 + (i % 5) },
  }));
  expect(await api('POST', '/v1/jobs/batch', { jobs: reports }), [201], 'enqueueing reports');
  count('reports', REPORTS);

  const thumbs = Array.from({ length: THUMBNAILS }, (_, i) => ({
    definition: 'thumbnail',
    input: { image: `photos/img-${i + 1}.jpg`, width: [128, 256, 512][i % 3] },
  }));
  expect(await api('POST', '/v1/jobs/batch', { jobs: thumbs }), [201], 'enqueueing thumbnails');
  count('media', THUMBNAILS);

  const bad = await api('POST', '/v1/jobs', { definition: 'thumbnail', input: { image: '', width: 8 } });
  if (bad.status === 400) {
    notes.push(
      `a thumbnail with bad input was refused: 400 ${bad.body.error.issues.map((i: any) => i.path).join(', ')} (validated against the definition's JSON schema)`,
    );
  }

  let flakyJobId = 0;
  for (let i = 0; i < CHARGES; i++) {
    const flaky = i < 3;
    const job = expect(
      await api('POST', '/v1/jobs', {
        queue: 'billing',
        name: 'charge-card',
        input: { order: `order-${1000 + i}`, cents: 1999 + i * 100, flaky },
        maxAttempts: 5,
        idempotencyKey: `charge-order-${1000 + i}`,
      }),
      [201],
      'enqueueing a charge',
    );
    if (flaky && !flakyJobId) flakyJobId = job.id;
  }
  const again = await api('POST', '/v1/jobs', {
    queue: 'billing',
    name: 'charge-card',
    input: { order: 'order-1000', cents: 1999, flaky: true },
    maxAttempts: 5,
    idempotencyKey: 'charge-order-1000',
  });
  if (again.status === 200 && again.body.id === flakyJobId)
    notes.push(`a repeated charge request (same idempotencyKey) returned the existing job ${flakyJobId}: 200, not a second charge`);

  const failing = expect(
    await api('POST', '/v1/jobs', { queue: 'billing', name: 'import-ledger', input: { file: 'ledger-2024-q4.csv' }, maxAttempts: 3 }),
    [201],
    'enqueueing the ledger import',
  );
  count('billing', CHARGES + 1);

  const total = Object.values(byQueue).reduce((a, b) => a + b, 0);
  return { total, byQueue, failingJobId: failing.id, flakyJobId, notes };
}
