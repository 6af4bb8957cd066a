import { DomainError } from "../errors";
import { errorText, reportError } from "../observability/log";

// A page is made of sections read independently; one failing read shows an error box in its own
// section instead of taking the whole page down.

export type Section<T> = { ok: true; data: T } | { ok: false; error: string };

export async function section<T>(name: string, read: () => Promise<T>): Promise<Section<T>> {
  try {
    return { ok: true, data: await read() };
  } catch (error) {
    // A domain error (a cursor from an old link) is the reader's to fix: its message, nothing reported.
    if (error instanceof DomainError) return { ok: false, error: error.message };
    reportError(error, { section: name });
    return { ok: false, error: errorText(error) };
  }
}
