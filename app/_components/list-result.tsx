import type { ReactNode } from "react";
import type { Section } from "@/lib/dashboard/section";
import { type Column, DataTable } from "./data-table";
import { Pager, type PagerProps } from "./pager";
import { EmptyState, ErrorState } from "./states";

/**
 * A paged list read as one page section: the filter errors if the filters did not parse, else the
 * read error, else "nothing matches", else the table; the pager whenever the read succeeded.
 */
export function ListResult<T, Row>({
  invalidFilters,
  result,
  rows,
  failedTitle,
  failedHint,
  emptyTitle,
  emptyText,
  table,
  pager,
}: {
  /** Why the filters were refused; the list was not read (`result` is null). */
  invalidFilters?: string;
  result: Section<T> | null;
  rows: (data: T) => Row[];
  failedTitle: string;
  failedHint?: ReactNode;
  emptyTitle: string;
  emptyText: ReactNode;
  table: {
    testId: string;
    caption: string;
    columns: (Column<Row> | false)[];
    rowKey: (row: Row) => string | number;
  };
  pager: (data: T) => PagerProps;
}) {
  return (
    <>
      {invalidFilters !== undefined ? (
        <ErrorState title="Those filters are not valid." error={invalidFilters} />
      ) : !result?.ok ? (
        <ErrorState title={failedTitle} error={result?.error} hint={failedHint} />
      ) : rows(result.data).length === 0 ? (
        <EmptyState title={emptyTitle}>{emptyText}</EmptyState>
      ) : (
        <DataTable {...table} rows={rows(result.data)} />
      )}
      {result?.ok ? <Pager {...pager(result.data)} /> : null}
    </>
  );
}
