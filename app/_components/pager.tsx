import Link from "next/link";

/**
 * Keyset pagination links: "Newest" drops the cursor, "Older" carries the next one. Other query
 * parameters (filters, the other list's cursor) are kept.
 */
export type PagerProps = {
  basePath: string;
  params: Record<string, string | undefined>;
  cursorParam: string;
  current: string | null | undefined;
  next: string | null | undefined;
  label: string;
};

export function Pager({ basePath, params, cursorParam, current, next, label }: PagerProps) {
  const hrefWith = (cursor: string | null) => {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v && k !== cursorParam) query.set(k, v);
    if (cursor) query.set(cursorParam, cursor);
    const qs = query.toString();
    return qs ? `${basePath}?${qs}` : basePath;
  };
  if (!current && !next) return null;
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      {current ? <Link href={hrefWith(null)}>← Newest</Link> : <span />}
      {next ? (
        <Link href={hrefWith(next)} rel="next">
          Older →
        </Link>
      ) : (
        <span className="muted">End of list</span>
      )}
    </nav>
  );
}
