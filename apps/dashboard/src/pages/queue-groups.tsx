import { get, type QueueGroups, type RateLimit } from '../api';
import { Card, ErrorNote, Loading } from '../components/ui';
import { count, duration } from '../format';
import { usePoll } from '../hooks';

const rate = (r?: RateLimit) => (r ? `${count(r.limit)} per ${duration(r.periodMs)}` : 'none');

/** A queue's group settings and its groups (running / available, limit, tier, weight, held), busiest first. */
export function QueueGroupsCard({ name }: { name: string }) {
  const g = usePoll(() => get<QueueGroups>(`/v1/queues/${encodeURIComponent(name)}/groups`), 3000, [name]);
  if (!g.data) return g.error ? <ErrorNote error={g.error} /> : <Loading />;
  const { settings, groups } = g.data;
  const gc = settings.groupConcurrency;
  const limitText =
    gc === undefined
      ? 'none'
      : typeof gc === 'number'
        ? String(gc)
        : `${gc.default ?? 'none'} (tiers: ${Object.entries(gc.tiers)
            .map(([t, n]) => `${t} ${n}`)
            .join(', ')})`;
  if (gc === undefined && !settings.rateLimit && !settings.groupRateLimit && !groups.length) return null;
  return (
    <Card title="Groups">
      <div class="settings" data-testid="group-settings">
        <span>
          Per-group concurrency: <strong>{limitText}</strong>
        </span>{' '}
        <span>
          Rate limit: <strong>{rate(settings.rateLimit)}</strong>
        </span>{' '}
        <span>
          Per-group rate limit: <strong>{rate(settings.groupRateLimit)}</strong>
        </span>
      </div>
      <table class="table" data-testid="groups-table">
        <thead>
          <tr>
            <th>group</th>
            <th>tier</th>
            <th class="num">weight</th>
            <th class="num">running</th>
            <th class="num">limit</th>
            <th class="num">available</th>
            <th>held</th>
          </tr>
        </thead>
        <tbody>
          {groups.map((r) => (
            <tr key={r.group}>
              <td class="mono">{r.group}</td>
              <td>{r.tier ?? '–'}</td>
              <td class="num">{r.weight}</td>
              <td class="num">{count(r.running)}</td>
              <td class="num">{r.limit ?? '–'}</td>
              <td class="num">{count(r.available)}</td>
              <td>{r.heldReason ? <span class="pill warn">{r.heldReason}</span> : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
