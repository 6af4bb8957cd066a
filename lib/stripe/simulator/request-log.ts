export interface RequestLogEntry {
  seq: number;
  /** Simulated time (Unix seconds). */
  at: number;
  method: string;
  path: string;
  /** Route pattern, e.g. "POST /v1/transfers/:id/reversals"; undefined for unknown URLs. */
  endpoint: string | undefined;
  account: string | undefined;
  idempotencyKey: string | undefined;
  requestId: string;
  status: number;
  replayed: boolean;
  /** Ids of objects this request created (not events or balance transactions). */
  createdIds: string[];
  errorCode?: string;
  /** An injected fault that shaped the answer: rate_limited, lock_timeout, server_error, drop, drop_after. */
  fault?: string;
}

/** Append-only log of served requests; reads page by sequence number, so polling it stays linear. */
export class RequestLog {
  private readonly entries: RequestLogEntry[] = [];
  private nextSeq = 1;

  append(entry: Omit<RequestLogEntry, "seq">): RequestLogEntry {
    const full = { seq: this.nextSeq++, ...entry };
    this.entries.push(full);
    return full;
  }

  /** Entries with seq > `since` (at most `limit`). Sequence numbers are dense, so this is a slice. */
  since(since = 0, limit = Number.MAX_SAFE_INTEGER): RequestLogEntry[] {
    const first = this.entries[0];
    if (!first) return [];
    const start = Math.max(0, since + 1 - first.seq);
    return this.entries.slice(start, start + limit);
  }

  all(): readonly RequestLogEntry[] {
    return this.entries;
  }

  clear(): void {
    this.entries.length = 0;
  }
}
