import { type Db, getDb } from "@/db/client";
import { type Section, section } from "@/lib/dashboard/section";

export type SearchParams = Record<string, string | undefined>;

type Parsed<Q> =
  | { success: true; data: Q }
  | { success: false; error: { issues: readonly { message: string; path: PropertyKey[] }[] } };

/**
 * Reads an ops list whose filters came from the URL: only when they parsed (otherwise `invalidFilters`
 * says why, each issue prefixed with its field when `issuePaths`).
 */
export async function readFilteredList<Q, T>(
  name: string,
  parsed: Parsed<Q>,
  read: (db: Db, query: Q) => Promise<T>,
  { issuePaths = false }: { issuePaths?: boolean } = {},
): Promise<{ invalidFilters?: string; result: Section<T> | null }> {
  const db = await getDb();
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) =>
      issuePaths ? `${i.path.join(".")}: ${i.message}` : i.message,
    );
    return { invalidFilters: issues.join("; "), result: null };
  }
  return { result: await section(name, () => read(db, parsed.data)) };
}
