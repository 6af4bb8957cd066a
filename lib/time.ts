import type { Env } from "./env";

/** Parts of `at` as a wall clock in `timeZone`. */
export function wallClock(at: Date, timeZone: string) {
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

/**
 * How long one invocation may work: a third of the functions' maxDuration (vercel.json's 300 s →
 * 100 s, or the shorter PAYOUT_FUNCTION_MAX_DURATION_SECONDS of tests and drills), leaving room for
 * the last batch or event in flight and the answer.
 */
export function invocationBudgetMs(env: Pick<Env, "PAYOUT_FUNCTION_MAX_DURATION_SECONDS">): number {
  return Math.floor((env.PAYOUT_FUNCTION_MAX_DURATION_SECONDS * 1000) / 3);
}

/**
 * How long a claimed payout stays with the slice that claimed it: a slice's budget and the call in
 * flight when it ends, so a live slice never loses a payout to another, and a dead one's payouts
 * come back within about one slice. PAYOUT_LEASE_SECONDS overrides it.
 */
export function payoutLeaseSeconds(env: Pick<Env, "PAYOUT_FUNCTION_MAX_DURATION_SECONDS" | "PAYOUT_LEASE_SECONDS">): number {
  return env.PAYOUT_LEASE_SECONDS ?? Math.ceil(invocationBudgetMs(env) / 1000) + 30;
}

/**
 * A run whose heartbeat is older than this has lost its invocation: a live slice beats every few
 * seconds and a continuation never waits more than half of it, so one slice without a sign of life
 * means nobody is working on it. The watchdog and a re-trigger take such a run over.
 */
export function runStaleAfterSeconds(env: Pick<Env, "PAYOUT_FUNCTION_MAX_DURATION_SECONDS">): number {
  return Math.max(2, Math.ceil(invocationBudgetMs(env) / 1000));
}
