import { wallClock, zonedInstant } from "../time";

// Which cycle a run pays: 06:00 on the 1st and the 15th in PAYOUT_TIMEZONE.

export const CYCLE_DAYS = [1, 15] as const;
export const CYCLE_HOUR = 6;

export type Cycle = { cycleKey: string; cycleDate: string; cutoffAt: Date };

const pad = (n: number) => String(n).padStart(2, "0");

/** A given cycle date ("YYYY-MM-DD"): its key and the cutoff instant (06:00 that day in the zone). */
export function cycleFor(cycleDate: string, timeZone: string): Cycle {
  const [y, m, d] = cycleDate.split("-").map(Number) as [number, number, number];
  return { cycleKey: cycleDate, cycleDate, cutoffAt: zonedInstant(timeZone, y, m, d, CYCLE_HOUR) };
}

/** The latest scheduled cycle (1st or 15th, 06:00 local) at or before `now`. */
export function latestCycle(now: Date, timeZone: string): Cycle {
  const w = wallClock(now, timeZone);
  let year = w.year;
  let month = w.month;
  const candidates: [number, number, number][] = [];
  for (let back = 0; back < 2; back++) {
    for (const day of [...CYCLE_DAYS].reverse()) candidates.push([year, month, day]);
    month -= 1;
    if (month === 0) {
      month = 12;
      year -= 1;
    }
  }
  for (const [y, m, d] of candidates) {
    const cutoff = zonedInstant(timeZone, y, m, d, CYCLE_HOUR);
    if (cutoff.getTime() <= now.getTime()) return { cycleKey: `${y}-${pad(m)}-${pad(d)}`, cycleDate: `${y}-${pad(m)}-${pad(d)}`, cutoffAt: cutoff };
  }
  throw new Error("unreachable: a cycle exists within two months");
}

/**
 * The cycle after `cycleDate`: the next 1st or 15th. Its cutoff is when `cycleDate`'s cycle closes
 * (a payout of it still awaiting approval then is released to the next cycle).
 */
export function nextCycle(cycleDate: string, timeZone: string): Cycle {
  const [y, m, d] = cycleDate.split("-").map(Number) as [number, number, number];
  const day = CYCLE_DAYS.find((c) => c > d);
  const [ny, nm, nd] = day ? [y, m, day] : m === 12 ? [y + 1, 1, CYCLE_DAYS[0]] : [y, m + 1, CYCLE_DAYS[0]];
  return cycleFor(`${ny}-${pad(nm)}-${pad(nd)}`, timeZone);
}
