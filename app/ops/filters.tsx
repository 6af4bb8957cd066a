import type { ReactNode } from "react";

/** The GET form above an ops list: its fields, then "Filter". */
export function FilterForm({ label, children }: { label: string; children: ReactNode }) {
  return (
    <form method="get" className="filters" aria-label={label}>
      {children}
      <button type="submit">Filter</button>
    </form>
  );
}

/** The "Status" select of a filter form: one catch-all option, then every status. */
export function StatusFilter({
  statuses,
  value,
  anyValue,
  anyLabel,
}: {
  statuses: readonly string[];
  value: string;
  anyValue: string;
  anyLabel: string;
}) {
  return (
    <label>
      Status
      <select name="status" defaultValue={value}>
        <option value={anyValue}>{anyLabel}</option>
        {statuses.map((s) => (
          <option key={s} value={s}>
            {s}
          </option>
        ))}
      </select>
    </label>
  );
}
