import type { JoblineEvent } from '@jobline/core';
import { connect, intOption, type Command } from '../context.js';
import { UsageError } from '../errors.js';

/** One event as a line for people: time, event, what it is about, the essentials. */
export function eventLine(e: JoblineEvent): string {
  const d = e.data as Record<string, any>;
  const what = e.type.replace(/^dev\.jobline\./, '');
  const parts: string[] = [];
  if (what.startsWith('job.')) {
    parts.push(`job ${d.jobId}`, `${d.queue}/${d.name}`);
    if (d.attempt) parts.push(`attempt ${d.attempt}/${d.maxAttempts}`);
    if (d.dagRunId !== undefined) parts.push(`dag:${d.dagRunId}/${d.dagNodeKey}`);
  } else if (what.startsWith('group.')) {
    parts.push(`group ${d.group}`, `${d.reason}: balance ${d.balance ?? '-'} ${d.unit ?? ''}`.trimEnd());
  } else {
    parts.push(`dag:${d.dagRunId ?? e.subject}`);
    if (d.nodeKey ?? d.key) parts.push(`node ${d.nodeKey ?? d.key}`);
    if (d.name) parts.push(String(d.name));
  }
  if (typeof d.durationMs === 'number') parts.push(`${Math.round(d.durationMs)} ms`);
  if (d.error?.message) parts.push(`error: ${String(d.error.message).split('\n')[0].slice(0, 120)}`);
  return `${e.time.slice(11, 23)}  ${what.padEnd(18)}  ${parts.join('  ')}`;
}

export const events: Command = {
  name: 'events',
  summary: 'follow job and DAG events (from NATS, or the outbox without NATS_URL)',
  usage: 'events tail [--queue Q] [--event E] [--job ID] [--dag ID] [--from new|all] [--count N] [--json]',
  help: `Prints events as they happen until Ctrl-C: from the JetStream stream when NATS_URL is set,
else from the outbox table (where events wait when no relay publishes them).

Options:
  --queue Q        job events of one queue
  --event E        one event: enqueued, started, completed, failed, retrying, cancelled, rescued,
                   or a DAG event (run_created, run_succeeded, run_failed, node_ready, …)
  --job ID         events of one job
  --dag ID         events of one DAG run
  --from new|all   new events only (default), or also those still in the stream/outbox
  --count N        stop after N events
  --json           one CloudEvents JSON document per line (NDJSON)`,
  options: {
    queue: { type: 'string' },
    event: { type: 'string' },
    job: { type: 'string' },
    dag: { type: 'string' },
    from: { type: 'string' },
    count: { type: 'string' },
  },
  async run({ positionals, values: v, json }) {
    if (positionals[0] !== 'tail' || positionals.length > 1) throw new UsageError('use: jobline events tail [filters]');
    const from = (v.from as string | undefined) ?? 'new';
    if (from !== 'new' && from !== 'all') throw new UsageError('--from must be "new" or "all"');
    const count = intOption(v.count, 'count', 1, Number.MAX_SAFE_INTEGER);
    const jl = await connect();
    const ac = new AbortController();
    const stop = () => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      let seen = 0;
      for await (const e of jl.tailEvents({
        queue: v.queue as string | undefined,
        event: v.event as never,
        jobId: v.job as string | undefined,
        dagRunId: v.dag as string | undefined,
        from,
        signal: ac.signal,
        // once listening, so that what a person starts after seeing this line is shown
        onReady: (from) => {
          const source = from === 'nats' ? 'NATS' : 'the outbox';
          if (!json && process.stderr.isTTY) process.stderr.write(`following events from ${source} (Ctrl-C stops)\n`);
          else jl.logger.info({ source }, 'following events'); // for scripts (LOG_LEVEL=info): listening from here on
        },
      })) {
        process.stdout.write((json ? JSON.stringify(e) : eventLine(e)) + '\n');
        if (count !== undefined && ++seen >= count) break;
      }
      return 0;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await jl.close();
    }
  },
};
