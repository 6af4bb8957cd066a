import { CYCLE_DAYS, CYCLE_HOUR } from "../payouts/cycle";
import { wallClock, zonedInstant } from "../time";

/** The next scheduled run (1st or 15th, 06:00 in `timeZone`) strictly after `now`. */
export function nextCycleAt(now: Date, timeZone: string): { cycleDate: string; at: Date } {
  let { year, month } = wallClock(now, timeZone);
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
