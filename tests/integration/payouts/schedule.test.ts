import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { cycleFor, latestCycle } from "@/lib/payouts/cycle";
import { parseCron } from "@/lib/scheduler/cron";
import { startLocalScheduler } from "@/lib/scheduler/local";
import { qstashCron, scheduleDefinitions } from "@/lib/scheduler/schedules";

describe("cycles", () => {
  it("the latest 1st/15th 06:00 in the payout time zone at or before now", () => {
    expect(latestCycle(new Date("2026-11-21T12:00:00Z"), "UTC").cycleKey).toBe("2026-11-15");
    expect(latestCycle(new Date("2026-11-15T05:59:00Z"), "UTC").cycleKey).toBe("2026-11-01");
    expect(latestCycle(new Date("2026-11-15T06:00:00Z"), "UTC").cycleKey).toBe("2026-11-15");
    expect(latestCycle(new Date("2026-01-01T03:00:00Z"), "UTC").cycleKey).toBe("2025-12-15");
    // 06:00 in New York is 11:00 UTC in winter
    expect(latestCycle(new Date("2026-12-01T10:59:00Z"), "America/New_York").cycleKey).toBe("2026-11-15");
    expect(cycleFor("2026-12-01", "America/New_York").cutoffAt.toISOString()).toBe(
      "2026-12-01T11:00:00.000Z",
    );
    expect(cycleFor("2026-07-01", "Europe/London").cutoffAt.toISOString()).toBe("2026-07-01T05:00:00.000Z");
  });
});

describe("schedules as code", () => {
  it("defines the run and every sweep at different minutes, with the zone as CRON_TZ", () => {
    const defs = scheduleDefinitions({ PAYOUT_TIMEZONE: "Europe/Paris" });
    const run = defs.find((d) => d.id === "payout-run")!;
    expect(qstashCron(run)).toBe("CRON_TZ=Europe/Paris 0 6 1,15 * *");
    const sweeps = defs.filter((d) => d.path.startsWith("/internal/sweeps/"));
    expect(sweeps.map((d) => d.path).sort()).toEqual(
      [
        "/internal/sweeps/complete-expired-guarantees",
        "/internal/sweeps/create-placement-invoices",
        "/internal/sweeps/escrow-releases",
        "/internal/sweeps/finalize-placement-invoices",
        "/internal/sweeps/instant-payouts",
        "/internal/sweeps/ledger-invariants",
        "/internal/sweeps/payout-schedules",
        "/internal/sweeps/reconcile",
        "/internal/sweeps/webhook-replays",
      ].sort(),
    );
    // the hourly ones at different minutes; the instant payouts' resume sweep every minute
    const hourly = sweeps.filter((d) => d.path !== "/internal/sweeps/instant-payouts");
    expect(new Set(hourly.map((d) => d.cron.split(" ")[0])).size).toBe(hourly.length);
    expect(defs.find((d) => d.path === "/internal/sweeps/instant-payouts")?.cron).toBe("* * * * *");
    expect(defs.find((d) => d.path === "/internal/outbox/relay")?.cron).toBe("* * * * *");
  });

  it("cron matching in a time zone", () => {
    const m = parseCron("0 6 1,15 * *", "America/New_York");
    expect(m(new Date("2026-12-01T11:00:00Z"))).toBe(true);
    expect(m(new Date("2026-12-01T06:00:00Z"))).toBe(false);
    expect(parseCron("*/15 * * * *", "UTC")(new Date("2026-12-01T10:45:00Z"))).toBe(true);
  });

  it("the local scheduler fires due schedules at the local server with the cron secret, once per minute", async () => {
    const hits: { path: string; secret: string | undefined }[] = [];
    const server = createServer((req, res) => {
      hits.push({ path: req.url ?? "", secret: req.headers["x-cron-secret"] as string | undefined });
      req.resume();
      res.writeHead(200).end("{}");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let ticks = 0; // the scheduler reads the clock once per tick
    const scheduler = startLocalScheduler({
      baseUrl: base,
      cronSecret: "local-secret-0123456789",
      definitions: scheduleDefinitions({ PAYOUT_TIMEZONE: "UTC" }),
      tickMs: 20,
      now: () => {
        ticks++;
        return new Date("2026-12-01T06:00:10Z");
      },
    });
    const until = async (condition: () => boolean) => {
      while (!condition()) await new Promise((r) => setTimeout(r, 5));
    };
    // Both due schedules have reached the server; then five more ticks in the same minute fire nothing.
    await until(() => hits.length >= 2);
    const seen = ticks;
    await until(() => ticks >= seen + 5);
    scheduler.stop();
    server.close();
    const paths = hits.map((h) => h.path);
    expect(paths.filter((p) => p === "/internal/payouts/run").length).toBe(1);
    expect(paths.filter((p) => p === "/internal/outbox/relay").length).toBe(1);
    // no hourly sweep at 06:00; the every-minute resume of instant payouts, once
    expect(paths.filter((p) => p.startsWith("/internal/sweeps/"))).toEqual(["/internal/sweeps/instant-payouts"]);
    expect(hits.every((h) => h.secret === "local-secret-0123456789")).toBe(true);
  });
});
