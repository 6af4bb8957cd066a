import { CYCLE_DAYS, CYCLE_HOUR, zonedInstant } from "../payouts/cycle";

/** The next scheduled run (1st or 15th, 06:00 in `timeZone`) strictly after `now`. */
export function nextCycleAt(now: Date, timeZone: string): { cycleDate: string; at: Date } {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit" }).formatToParts(now);
  let year = Number(parts.find((p) => p.type === "year")?.value);
  let month = Number(parts.find((p) => p.type === "month")?.value);
  for (let i = 0; i < 3; i++) {
    for (const day of CYCLE_DAYS) {
      const at = zonedInstant(timeZone, year, month, day, CYCLE_HOUR);
      if (at.getTime() > now.getTime()) {
        return { cycleDate: `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`, at };
      }
    }
    month += 1;
    if (month === 13) {
      month = 1;
      year += 1;
    }
  }
  throw new Error("unreachable: a cycle exists within two months");
}
