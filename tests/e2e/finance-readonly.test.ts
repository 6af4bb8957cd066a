import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSignedIn, screenshot, type Session, textOf } from "./support/browser";

// Finance sees every number, including the KPIs, and no button that changes anything.

const ACTIONS = /Start a run|Pause payouts|Resume payouts|Retry|Replay|Release now|Cancel hold|Try now/;

describe("ops console as finance", () => {
  let session: Session;
  beforeAll(async () => {
    session = await openSignedIn("finance");
  });
  afterAll(async () => {
    await session?.close();
  });

  it("shows the KPIs and no action buttons", async () => {
    const { page } = session;
    const kpis = page.getByTestId("kpis");
    await kpis.waitFor();
    expect(await page.getByTestId("kpi-success-rate").isVisible()).toBe(true);
    expect(await page.getByTestId("kpi-failed").isVisible()).toBe(true);
    expect(await textOf(page.getByTestId("kpi-onboarding"))).toMatch(/%/);
    expect(await page.getByTestId("read-only-note").isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: ACTIONS }).count()).toBe(0);
    await screenshot(page, "finance-ops");
  });

  it("sees runs, events, holds and schedules read-only", async () => {
    const { page } = session;
    const base = page.url().replace(/\/ops.*/, "");
    for (const path of ["/ops/runs", "/ops/events", "/ops/holds", "/ops/schedules", "/ops/audit"]) {
      await page.goto(`${base}${path}`);
      await page.getByRole("heading", { level: 1 }).waitFor();
      expect(await page.getByRole("button", { name: ACTIONS }).count(), path).toBe(0);
    }
    await page.goto(`${base}/ops/runs`);
    const firstRun = page.getByTestId("runs-table").getByRole("link").first();
    if (await firstRun.isVisible()) {
      await firstRun.click();
      await page.getByTestId("run-progress").waitFor();
      expect(await page.getByRole("button", { name: ACTIONS }).count()).toBe(0);
      await screenshot(page, "finance-run");
    }
  });
});
