// Cron expressions for the local scheduler, read by croner (the five fields QStash takes: minute
// hour day-of-month month day-of-week), evaluated on the wall clock of a time zone.
import { Cron } from "croner";

export type CronMatcher = (at: Date) => boolean;

/** Does `at`'s minute match `expression` in `timeZone`? Throws on an expression QStash would refuse. */
export function parseCron(expression: string, timeZone: string): CronMatcher {
  // No job function: croner only parses and matches, it starts no timer.
  const cron = new Cron(expression, { timezone: timeZone, mode: "5-part" });
  // Five-part patterns match second 0 only; the scheduler asks about whole minutes.
  return (at: Date) => cron.match(new Date(Math.floor(at.getTime() / 60_000) * 60_000));
}
