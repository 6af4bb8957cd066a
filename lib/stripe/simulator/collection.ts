import { invalidRequest } from "./errors";
import type { StoredObject } from "./types";
import { isRecord } from "./types";

/** Adds `item` to the front of an embedded sublist (`refunds`, `reversals`): Stripe embeds the newest 10. */
export function prependToSublist(owner: StoredObject, field: string, item: StoredObject): void {
  const sublist = isRecord(owner[field]) ? owner[field] : {};
  const data = Array.isArray(sublist.data) ? sublist.data : [];
  sublist.data = [item, ...data].slice(0, 10);
  sublist.has_more = data.length >= 10;
  if ("total_count" in sublist) sublist.total_count = Number(sublist.total_count ?? 0) + 1;
  owner[field] = sublist;
}

export interface ListPage<T> {
  data: T[];
  hasMore: boolean;
}

export interface PageOptions<T> {
  limit: number;
  startingAfter?: string;
  endingBefore?: string;
  filter?: (item: T) => boolean;
}

/**
 * Objects in creation order with an id index, so cursor pagination (newest first, as Stripe lists)
 * starts at the cursor in O(1) instead of scanning: lists of 10,000 payouts stay cheap to page.
 */
export class OrderedCollection<T extends StoredObject = StoredObject> {
  private readonly items: T[] = [];
  private readonly indexById = new Map<string, number>();

  add(item: T): void {
    if (this.indexById.has(item.id)) return;
    this.indexById.set(item.id, this.items.length);
    this.items.push(item);
  }

  get size(): number {
    return this.items.length;
  }

  has(id: string): boolean {
    return this.indexById.has(id);
  }

  /** Oldest first. */
  all(): readonly T[] {
    return this.items;
  }

  page({ limit, startingAfter, endingBefore, filter }: PageOptions<T>): ListPage<T> {
    const data: T[] = [];
    if (endingBefore !== undefined) {
      // The `limit` items just newer than the cursor, still returned newest first.
      const cursor = this.cursorIndex(endingBefore, "ending_before");
      for (let i = cursor + 1; i < this.items.length && data.length <= limit; i++) {
        const item = this.items[i];
        if (item && (!filter || filter(item))) data.push(item);
      }
      const hasMore = data.length > limit;
      return { data: data.slice(0, limit).reverse(), hasMore };
    }
    const start =
      startingAfter === undefined
        ? this.items.length - 1
        : this.cursorIndex(startingAfter, "starting_after") - 1;
    for (let i = start; i >= 0; i--) {
      const item = this.items[i];
      if (!item || (filter && !filter(item))) continue;
      if (data.length === limit) return { data, hasMore: true };
      data.push(item);
    }
    return { data, hasMore: false };
  }

  private cursorIndex(id: string, param: string): number {
    const index = this.indexById.get(id);
    if (index === undefined) throw invalidRequest(`No such object: '${id}'`, "resource_missing", param);
    return index;
  }
}
