import { Relay, type RelayDeps, type RelayStats } from '../events/relay.js';
import { LeaderService } from './leader-service.js';

export const RELAY_LEASE = 'relay';

/**
 * The outbox relay as a leader service: every process may run one, only the holder of the
 * `relay` lease publishes (events/relay.ts does the publishing). A dead holder is replaced after
 * `events.leaseTtlMs`; a stopping one finishes its batch, then releases the lease at once.
 * Events: `leader` (boolean), and the relay's `acked` ({ ids, duplicates }) and `warning` (err).
 */
export class RelayService extends LeaderService {
  readonly relay: Relay;

  constructor(deps: RelayDeps) {
    super({ db: deps.pool, s: deps.s, name: RELAY_LEASE, holder: deps.holder, ttlMs: deps.events.leaseTtlMs });
    this.relay = new Relay(deps);
    this.relay.on('acked', (a) => this.emit('acked', a));
    this.relay.on('warning', (err) => this.emit('warning', err));
  }

  get stats(): RelayStats {
    return this.relay.stats;
  }

  /** Outbox rows waiting, as of the last measurement; the metric to alert on. */
  get backlog(): number {
    return this.relay.backlog;
  }

  protected lead(): void {
    this.relay.lead();
  }

  protected follow(): void {
    this.relay.follow();
  }

  /** The batch in flight ends (and NATS closes) before the lease is given back, so the next leader never publishes beside this one. */
  protected override settle(stopping: boolean): Promise<void> {
    return stopping ? this.relay.stop() : this.relay.idle();
  }
}
