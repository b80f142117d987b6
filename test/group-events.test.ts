/** Group events (issue 15) in @jobline/contracts and the relay's envelope: names, subjects, schemas. */
import { describe, expect, it } from 'vitest';
import { FilterError, GROUP_EVENT_NAMES, filterSubject, groupEventType, groupSubject, isGroupEvent, parseEvent } from '@jobline/contracts';
import { envelopeJson } from '../packages/core/dist/events/envelope.js';
import { eventLine } from '../apps/cli/dist/commands/events.js';

const row = (event: 'held' | 'released', data: Record<string, unknown>) => ({
  id: 42,
  type: groupEventType(event),
  subject: groupSubject(event),
  jobId: null,
  dagRunId: null,
  dataJson: JSON.stringify(data),
  traceparent: null,
  time: '2026-12-01T23:00:00.000Z',
});

describe('group events', () => {
  it('names, types and subjects', () => {
    expect(GROUP_EVENT_NAMES).toEqual(['held', 'released']);
    expect(groupEventType('held')).toBe('dev.jobline.group.held');
    expect(filterSubject({ event: 'released' })).toBe('jobline.group.released');
    expect(filterSubject({ event: 'held' }, 'prod')).toBe('prod.group.held');
    expect(() => filterSubject({ event: 'held', queue: 'a' })).toThrow(FilterError);
    expect(() => filterSubject({ event: 'held', jobId: 1 })).toThrow(/carry no jobId/);
  });

  it('the relay envelope carries the group key (any text) as subject and validates', () => {
    const e = parseEvent(
      envelopeJson(row('held', { group: 'tenant "x".1', reason: 'quota', held: true, balance: 0, unit: 'attempts' }), '"/jobline/test"'),
    );
    expect(isGroupEvent(e)).toBe(true);
    expect(e.subject).toBe('tenant "x".1');
    expect(e.data).toMatchObject({ group: 'tenant "x".1', held: true });
    expect(eventLine(e)).toMatch(/group\.held\s+group tenant "x"\.1\s+quota: balance 0 attempts/);
    expect(() => parseEvent(envelopeJson(row('released', { group: 'g', reason: 'other', held: false }), '"/x"'))).toThrow();
  });
});
