/**
 * Remembers the last `capacity` event ids. JetStream redelivers a message whose ack was lost or
 * late (ack_wait passed while the callback still ran); the subscriber skips ids it has handled.
 * A Map keeps insertion order, so evicting the oldest id is O(1).
 */
export class RecentIds {
  private readonly ids = new Map<string, true>();

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    this.ids.delete(id);
    this.ids.set(id, true);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.keys().next().value!);
  }

  get size(): number {
    return this.ids.size;
  }
}
