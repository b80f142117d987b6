import {
  DEFAULT_SUBJECT_PREFIX,
  isDagEventName,
  isGroupEventName,
  isJobEventName,
  type DagEventName,
  type EventName,
  type GroupEventName,
  type JobEventName,
} from './names.js';

/**
 * Subjects: `<prefix>.job.<queue>.<event>.<jobId>` and `<prefix>.dag.<event>.<dagRunId>`, so a
 * subscriber filters by queue, event or one job with NATS wildcards alone (no payload parsing).
 */
export const jobSubject = (queue: string, event: JobEventName, jobId: number | string, prefix = DEFAULT_SUBJECT_PREFIX) =>
  `${prefix}.job.${queue}.${event}.${jobId}`;
export const dagSubject = (event: DagEventName, dagRunId: number | string, prefix = DEFAULT_SUBJECT_PREFIX) =>
  `${prefix}.dag.${event}.${dagRunId}`;
/** Group events: `<prefix>.group.<event>`; the group key is in `data.group` (keys are free text). */
export const groupSubject = (event: GroupEventName, prefix = DEFAULT_SUBJECT_PREFIX) => `${prefix}.group.${event}`;

/** What a subscriber wants. Everything given must match; nothing given means every event. */
export interface EventFilter {
  /** Job events of this queue only (DAG events carry no queue). */
  queue?: string;
  /** One event name, job (`completed`) or DAG (`run_failed`). */
  event?: EventName;
  /** Events of one job. */
  jobId?: number | string;
  /** DAG run/node events of one run. (Job events of the run's nodes are filtered by `jobId`.) */
  dagRunId?: number | string;
}

/** A filter that cannot be expressed as one subject (e.g. a queue together with a DAG event). */
export class FilterError extends Error {
  constructor(
    readonly field: keyof EventFilter,
    message: string,
  ) {
    super(message);
    this.name = 'FilterError';
  }
}

const TOKEN = /^[A-Za-z0-9_-]{1,128}$/;
const ID = /^[1-9][0-9]{0,18}$/;
const SUBJECT_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** Checks a subject prefix: dot-separated tokens of letters, digits, `_` and `-` (no wildcards). */
export function assertSubjectPrefix(prefix: string): string {
  if (!SUBJECT_PREFIX.test(prefix)) {
    throw new FilterError('event', `subject prefix "${prefix}" must be dot-separated tokens of letters, digits, "_" or "-"`);
  }
  return prefix;
}

function check(field: keyof EventFilter, value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new FilterError(field, `${field} "${value}" is not ${what}`);
  return value;
}

/** Is this filter about DAG events (rather than job events)? Throws when it mixes both. */
export function isDagFilter(f: EventFilter): boolean {
  const dag = f.dagRunId !== undefined || (f.event !== undefined && isDagEventName(f.event));
  if (dag && f.queue !== undefined) throw new FilterError('queue', 'DAG events have no queue: drop queue, or filter job events');
  if (dag && f.jobId !== undefined)
    throw new FilterError('jobId', 'jobId selects job events; dagRunId and DAG event names select DAG events');
  if (dag && f.event !== undefined && !isDagEventName(f.event)) {
    throw new FilterError('event', `"${f.event}" is a job event, but dagRunId selects DAG events (run_*, node_*)`);
  }
  return dag;
}

/** The one NATS subject (with wildcards) that selects exactly the events the filter asks for. */
export function filterSubject(f: EventFilter = {}, prefix = DEFAULT_SUBJECT_PREFIX): string {
  assertSubjectPrefix(prefix);
  if (f.event !== undefined && isGroupEventName(f.event)) {
    const other = (['queue', 'jobId', 'dagRunId'] as const).find((k) => f[k] !== undefined);
    if (other) throw new FilterError(other, `group events (${f.event}) carry no ${other}: filter them by event alone`);
    return groupSubject(f.event, prefix);
  }
  if (f.event !== undefined && !isJobEventName(f.event) && !isDagEventName(f.event)) {
    throw new FilterError('event', `unknown event "${f.event}"`);
  }
  if (isDagFilter(f)) {
    const run = f.dagRunId === undefined ? '*' : check('dagRunId', String(f.dagRunId), ID, 'a DAG run id');
    return `${prefix}.dag.${f.event ?? '*'}.${run}`;
  }
  if (f.queue === undefined && f.event === undefined && f.jobId === undefined) return `${prefix}.>`;
  const queue = f.queue === undefined ? '*' : check('queue', f.queue, TOKEN, 'a queue name (letters, digits, "_", "-")');
  const job = f.jobId === undefined ? '*' : check('jobId', String(f.jobId), ID, 'a job id');
  return `${prefix}.job.${queue}.${f.event ?? '*'}.${job}`;
}

/** Does a concrete subject match a subject pattern with `*` and `>` wildcards? */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length || (p[i] !== '*' && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}
