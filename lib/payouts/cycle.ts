// Which cycle a run pays: 06:00 on the 1st and the 15th in PAYOUT_TIMEZONE.

export const CYCLE_DAYS = [1, 15] as const;
export const CYCLE_HOUR = 6;

/** Parts of `at` as a wall clock in `timeZone`. */
function wallClock(at: Date, timeZone: string) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { year: get("year"), month: get("month"), day: get("day"), hour: get("hour"), minute: get("minute"), second: get("second") };
}

/** The instant at which the wall clock in `timeZone` reads the given date and time. */
export function zonedInstant(timeZone: string, year: number, month: number, day: number, hour = 0, minute = 0): Date {
  // Guess as if UTC, then correct by the zone's offset at that instant (twice, for DST edges).
  let guess = Date.UTC(year, month - 1, day, hour, minute);
  for (let i = 0; i < 2; i++) {
    const w = wallClock(new Date(guess), timeZone);
    const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
    guess += Date.UTC(year, month - 1, day, hour, minute) - asUtc;
  }
  return new Date(guess);
}

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
