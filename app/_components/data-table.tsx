import type { ReactNode } from "react";

/** One column of a DataTable: its header, and the cell it shows for a row. */
export type Column<Row> = {
  label: string;
  /** A number column: right-aligned header and cells. */
  num?: boolean;
  /** Class of the cells (not the header) of a non-number column, e.g. "small". */
  className?: string;
  cell: (row: Row) => ReactNode;
};

/**
 * The responsive table every list uses: each cell carries its column's label (`data-label`), which
 * the phone layout shows in place of the header. `false` columns are left out (e.g. an action column
 * for read-only users).
 */
export function DataTable<Row>({
  testId,
  caption,
  columns,
  rows,
  rowKey,
}: {
  testId: string;
  /** Read by screen readers only. */
  caption?: string;
  columns: (Column<Row> | false)[];
  rows: Row[];
  rowKey: (row: Row) => string | number;
}) {
  const shown = columns.filter((c): c is Column<Row> => c !== false);
  return (
    <div className="table-wrap">
      <table className="responsive" data-testid={testId}>
        {caption ? <caption className="sr-only">{caption}</caption> : null}
        <thead>
          <tr>
            {shown.map((c) => (
              <th key={c.label} scope="col" className={c.num ? "num" : undefined}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)}>
              {shown.map((c) => (
                <td key={c.label} data-label={c.label} className={c.num ? "num" : c.className}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
