import { describe, expect, it } from "vitest";
import { parseCron } from "@/lib/scheduler/cron";
import { scheduleDefinitions } from "@/lib/scheduler/schedules";

describe("parseCron (croner)", () => {
  it("matches the whole minute, whatever the seconds the scheduler looks at", () => {
    const m = parseCron("*/15 * * * *", "UTC");
    expect(m(new Date("2026-12-01T10:45:00Z"))).toBe(true);
    expect(m(new Date("2026-12-01T10:45:59.999Z"))).toBe(true);
    expect(m(new Date("2026-12-01T10:46:00Z"))).toBe(false);
  });

  it("reads the wall clock of the schedule's time zone, across daylight saving", () => {
    const run = parseCron("0 6 1,15 * *", "America/New_York");
    expect(run(new Date("2026-12-01T11:00:00Z"))).toBe(true); // EST, UTC-5
    expect(run(new Date("2026-07-01T10:00:00Z"))).toBe(true); // EDT, UTC-4
    expect(run(new Date("2026-07-01T11:00:00Z"))).toBe(false);
    expect(run(new Date("2026-12-02T11:00:00Z"))).toBe(false);
    const paris = parseCron("0 6 1,15 * *", "Europe/Paris");
    expect(paris(new Date("2026-03-15T05:00:00Z"))).toBe(true); // CET, UTC+1
    expect(paris(new Date("2026-04-01T04:00:00Z"))).toBe(true); // CEST, UTC+2
  });

  it("day of month OR day of week when both are restricted, as cron does; 7 is Sunday", () => {
    const m = parseCron("0 0 1 * 1", "UTC");
    expect(m(new Date("2026-12-01T00:00:00Z"))).toBe(true); // the 1st, a Tuesday
    expect(m(new Date("2026-12-07T00:00:00Z"))).toBe(true); // a Monday
    expect(m(new Date("2026-12-08T00:00:00Z"))).toBe(false);
    expect(parseCron("0 0 * * 7", "UTC")(new Date("2026-12-06T00:00:00Z"))).toBe(true); // a Sunday
  });

  it("refuses what QStash would refuse: bad fields, six fields", () => {
    expect(() => parseCron("61 * * * *", "UTC")).toThrow();
    expect(() => parseCron("0 0 * *", "UTC")).toThrow();
    expect(() => parseCron("0 0 0 * * *", "UTC")).toThrow();
  });

  it("parses every schedule Payrun defines", () => {
    for (const def of scheduleDefinitions({ PAYOUT_TIMEZONE: "Asia/Kolkata" })) {
      expect(() => parseCron(def.cron, def.timeZone)).not.toThrow();
    }
  });
});
