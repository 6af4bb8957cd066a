/** Stripe keeps idempotent results for 24 hours. */
export const IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 60 * 60;

export interface SavedResponse {
  status: number;
  body: string;
  requestId: string;
  fingerprint: string;
  savedAt: number;
}

export type IdempotencyLookup =
  | { kind: "miss" }
  | { kind: "replay"; saved: SavedResponse }
  | { kind: "mismatch" };

/**
 * Saved first responses by (account, key). Same key and same method+path+parameters replays the
 * first response; same key and anything else is an idempotency_error; entries older than 24 hours
 * of simulated time are forgotten, so the key can be used afresh.
 */
export class IdempotencyStore {
  private readonly saved = new Map<string, SavedResponse>();

  private static scope(account: string, key: string): string {
    return `${account}\u0000${key}`;
  }

  lookup(account: string, key: string, fingerprint: string, now: number): IdempotencyLookup {
    const scoped = IdempotencyStore.scope(account, key);
    const saved = this.saved.get(scoped);
    if (!saved) return { kind: "miss" };
    if (now - saved.savedAt >= IDEMPOTENCY_KEY_TTL_SECONDS) {
      this.saved.delete(scoped);
      return { kind: "miss" };
    }
    return saved.fingerprint === fingerprint ? { kind: "replay", saved } : { kind: "mismatch" };
  }

  save(account: string, key: string, response: SavedResponse): void {
    this.saved.set(IdempotencyStore.scope(account, key), response);
  }

  /** Drops expired entries; called when the clock jumps, never per request. */
  prune(now: number): void {
    for (const [scoped, saved] of this.saved)
      if (now - saved.savedAt >= IDEMPOTENCY_KEY_TTL_SECONDS) this.saved.delete(scoped);
  }

  clear(): void {
    this.saved.clear();
  }

  exportState(): Array<[string, SavedResponse]> {
    return [...this.saved];
  }

  importState(entries: Array<[string, SavedResponse]>): void {
    this.saved.clear();
    for (const [scoped, saved] of entries) this.saved.set(scoped, saved);
  }

  get size(): number {
    return this.saved.size;
  }
}
