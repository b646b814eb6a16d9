/**
 * Observer-side liveness of group members, without trusting anyone's clock: a member is alive
 * while its heartbeat counter keeps moving. Each observer notes, by its own clock, when it last
 * saw the counter change; a counter unchanged for the member's session timeout means the member
 * is gone. A member seen for the first time gets a full session timeout of benefit of the doubt.
 */
/** A saved observation: member id, heartbeat counter, when it was seen to change. */
export type LivenessEntry = readonly [memberId: string, heartbeat: number, changedAt: number];

export class LivenessTracker {
  readonly #seen = new Map<string, { heartbeat: number; changedAt: number }>();

  /** A tracker that continues from {@link entries} saved earlier. */
  constructor(entries: readonly LivenessEntry[] = []) {
    for (const [memberId, heartbeat, changedAt] of entries)
      this.#seen.set(memberId, { heartbeat, changedAt });
  }

  /** What the tracker knows, to save and restore (the HTTP API's members are stateless between calls). */
  entries(): LivenessEntry[] {
    return [...this.#seen].map(([memberId, { heartbeat, changedAt }]) => [memberId, heartbeat, changedAt]);
  }

  /** Records an observed heartbeat counter. */
  observe(memberId: string, heartbeat: number, now: number): void {
    const last = this.#seen.get(memberId);
    if (!last || last.heartbeat !== heartbeat) this.#seen.set(memberId, { heartbeat, changedAt: now });
  }

  /** True while the member's counter moved within `sessionTimeoutMs` (as this observer saw it). */
  isLive(memberId: string, now: number, sessionTimeoutMs: number): boolean {
    const last = this.#seen.get(memberId);
    return last !== undefined && now - last.changedAt < sessionTimeoutMs;
  }

  /** The counter value last observed, if any. */
  lastHeartbeat(memberId: string): number | undefined {
    return this.#seen.get(memberId)?.heartbeat;
  }

  /** Forgets members no longer in the group. */
  retain(memberIds: ReadonlySet<string>): void {
    for (const id of this.#seen.keys()) if (!memberIds.has(id)) this.#seen.delete(id);
  }
}
