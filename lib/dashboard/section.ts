// A page is made of sections read independently; one failing read shows an error box in its own
// section instead of taking the whole page down.

export type Section<T> = { ok: true; data: T } | { ok: false; error: string };

export async function section<T>(name: string, read: () => Promise<T>): Promise<Section<T>> {
  try {
    return { ok: true, data: await read() };
  } catch (error) {
    console.error(`[payrun] page section ${name} failed`, error);
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
