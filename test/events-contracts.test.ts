/** @jobline/contracts without NATS or PostgreSQL: subjects, filters and envelope schemas. */
import { describe, expect, it } from 'vitest';
import {
  DagEventSchemas,
  FilterError,
  JobEventSchemas,
  JoblineEventSchema,
  RecentIds,
  dagSubject,
  eventName,
  filterSubject,
  jobSubject,
  parseEvent,
  subjectMatches,
} from '@jobline/contracts';

const jobEnvelope = (over: Record<string, unknown> = {}, data: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id: '42',
  source: '/jobline/jobline',
  type: 'dev.jobline.job.completed',
  subject: '7',
  time: '2025-01-02T03:04:05.678Z',
  datacontenttype: 'application/json',
  data: {
    jobId: 7,
    queue: 'emails',
    name: 'send',
    state: 'completed',
    attempt: 1,
    maxAttempts: 5,
    runAt: '2025-01-02T03:04:05.123456+00:00',
    createdAt: '2025-01-02T03:04:05.123456+00:00',
    finishedAt: '2025-01-02T03:04:06+00:00',
    durationMs: 12.5,
    output: { sent: true, nothing: null },
    ...data,
  },
  ...over,
});

describe('subjects and filters', () => {
  it('builds the subjects of DESIGN §5 and one filter subject per filter', () => {
    expect(jobSubject('emails', 'completed', 7)).toBe('jobline.job.emails.completed.7');
    expect(dagSubject('run_failed', 3, 'acme')).toBe('acme.dag.run_failed.3');
    expect(filterSubject()).toBe('jobline.>');
    expect(filterSubject({ queue: 'emails' })).toBe('jobline.job.emails.*.*');
    expect(filterSubject({ event: 'failed' })).toBe('jobline.job.*.failed.*');
    expect(filterSubject({ jobId: 9 })).toBe('jobline.job.*.*.9');
    expect(filterSubject({ queue: 'q', event: 'started', jobId: '12' }, 'x.y')).toBe('x.y.job.q.started.12');
    expect(filterSubject({ event: 'node_ready' })).toBe('jobline.dag.node_ready.*');
    expect(filterSubject({ dagRunId: 5 })).toBe('jobline.dag.*.5');
  });

  it('rejects filters that no subject can express, naming the field', () => {
    const bad: [Parameters<typeof filterSubject>[0], string][] = [
      [{ queue: 'q', event: 'run_failed' }, 'queue'],
      [{ jobId: 1, dagRunId: 2 }, 'jobId'],
      [{ dagRunId: 2, event: 'completed' }, 'event'],
      [{ event: 'exploded' as never }, 'event'],
      [{ queue: 'a.b' }, 'queue'],
      [{ queue: '*' }, 'queue'],
      [{ jobId: '1.>' }, 'jobId'],
      [{ jobId: 0 }, 'jobId'],
    ];
    for (const [f, field] of bad) {
      const err = (() => {
        try {
          filterSubject(f);
        } catch (e) {
          return e;
        }
      })();
      expect(err, JSON.stringify(f)).toBeInstanceOf(FilterError);
      expect((err as FilterError).field).toBe(field);
    }
    expect(() => filterSubject({}, 'bad prefix')).toThrow(FilterError);
    expect(() => filterSubject({}, 'a.>')).toThrow(FilterError);
  });

  it('matches subjects against wildcard patterns like NATS does', () => {
    expect(subjectMatches('jobline.>', 'jobline.job.q.completed.1')).toBe(true);
    expect(subjectMatches('jobline.>', 'jobline')).toBe(false);
    expect(subjectMatches('jobline.job.*.completed.*', 'jobline.job.q.completed.1')).toBe(true);
    expect(subjectMatches('jobline.job.*.completed.*', 'jobline.job.q.failed.1')).toBe(false);
    expect(subjectMatches('jobline.job.q.*.*', 'jobline.job.q.failed')).toBe(false);
  });
});

describe('envelope schemas', () => {
  it('accepts a CloudEvents 1.0 job event, keeps extensions, and names its event', () => {
    const e = parseEvent(
      JSON.stringify(jobEnvelope({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', comexampleext: 'x' })),
    );
    expect(e.type).toBe('dev.jobline.job.completed');
    expect(eventName(e)).toBe('completed');
    expect((e as Record<string, unknown>).comexampleext).toBe('x');
    expect(JobEventSchemas.completed.parse(e).data.output).toEqual({ sent: true, nothing: null });
    expect(() => JobEventSchemas.failed.parse(e)).toThrow();
  });

  it('rejects envelopes that break the contract, with the path of the bad field', () => {
    const cases: [unknown, string][] = [
      [jobEnvelope({ specversion: '0.3' }), 'specversion'],
      [jobEnvelope({ subject: 'job-7' }), 'subject'],
      [jobEnvelope({ time: 'yesterday' }), 'time'],
      [jobEnvelope({ traceparent: 'nope' }), 'traceparent'],
      [jobEnvelope({}, { state: 'exploded' }), 'data.state'],
      [jobEnvelope({}, { attempt: -1 }), 'data.attempt'],
      [jobEnvelope({}, { error: { name: 'E' } }), 'data.error.message'],
    ];
    for (const [value, path] of cases) {
      const r = JobEventSchemas.completed.safeParse(value);
      expect(r.success, path).toBe(false);
      expect(r.error!.issues.map((i) => i.path.join('.'))).toEqual([path]);
      expect(JoblineEventSchema.safeParse(value).success).toBe(false);
    }
    expect(JoblineEventSchema.safeParse(jobEnvelope({ type: 'dev.jobline.job.exploded' })).success).toBe(false);
    expect(() => parseEvent('{not json')).toThrow(SyntaxError);
  });

  it('accepts DAG run and node events', () => {
    const e = DagEventSchemas.node_succeeded.parse({
      ...jobEnvelope(),
      type: 'dev.jobline.dag.node_succeeded',
      subject: '3',
      data: { dagRunId: 3, name: 'etl', state: 'succeeded', nodeKey: 'extract', jobId: 9 },
    });
    expect(e.data.nodeKey).toBe('extract');
    expect(eventName(e)).toBe('node_succeeded');
    expect(
      DagEventSchemas.run_created.safeParse({
        ...e,
        type: 'dev.jobline.dag.run_created',
        data: { dagRunId: 3, name: 'etl', state: 'running', failurePolicy: 'fail_fast' },
      }).success,
    ).toBe(true);
    expect(
      DagEventSchemas.run_created.safeParse({
        ...e,
        type: 'dev.jobline.dag.run_created',
        data: { dagRunId: 3, name: 'etl', state: 'running', failurePolicy: 'sometimes' },
      }).success,
    ).toBe(false);
  });

  it('remembers a bounded number of recent ids, evicting the oldest', () => {
    const r = new RecentIds(3);
    for (const id of ['1', '2', '3', '4']) r.add(id);
    expect([r.has('1'), r.has('2'), r.has('4'), r.size]).toEqual([false, true, true, 3]);
  });
});
