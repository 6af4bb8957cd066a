import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSignedIn, screenshot, type Session, textOf } from "./support/browser";

// A platform admin finds the payout that failed at the bank in the demo data's previous run
// (account_closed, applied from Stripe's events), retries it and watches the run execute it again;
// starts the latest cycle's run and watches it finish; then pauses and resumes payouts. The retry
// comes first: once a later run has paid the returned money out, the ledger rightly refuses it.

const FAILED_PAYEE = "Flo Closed-Bank";

describe("ops console as a platform admin", () => {
  let session: Session;
  beforeAll(async () => {
    session = await openSignedIn("platform_admin");
  });
  afterAll(async () => {
    await session?.close();
  });

  it("shows a bank failure in plain words and retries it", async () => {
    const { page } = session;
    await page.goto(page.url().replace(/\/ops.*/, "/ops/runs"));
    const links = page.getByTestId("runs-table").getByRole("link");
    const hrefs = await links.evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href));
    const failed = page.getByTestId("failed-payouts");
    for (const href of hrefs) {
      await page.goto(href);
      await page.getByTestId("run-progress").waitFor();
      if (await failed.isVisible()) break;
    }
    const text = await textOf(failed);
    expect(text).toContain(FAILED_PAYEE);
    expect(text).toContain("account_closed");
    expect(text).toContain("bank account has been closed");
    await screenshot(page, "admin-run-failure");

    await failed.getByRole("button", { name: `Retry payout to ${FAILED_PAYEE}` }).click();
    await page.getByText("Payout queued again").waitFor();
    // The run executes it again in the background; the page follows it live.
    await page.getByRole("heading", { name: /Failed payouts \(0\)/ }).waitFor({ timeout: 60_000 });
    await page.getByTestId("run-progress").getByText(/completed/).waitFor({ timeout: 60_000 });
    await screenshot(page, "admin-run-retried");
  });

  it("triggers a run and watches it finish on the run page", async () => {
    const { page } = session;
    await page.goto(page.url().replace(/\/ops.*/, "/ops"));
    await page.getByRole("heading", { name: "Ops console" }).waitFor();
    await page.getByRole("button", { name: "Start a run" }).click();
    await page.waitForURL(/\/ops\/runs\/[0-9a-f-]{36}/);
    const progress = page.getByTestId("run-progress");
    // Live progress: the page refreshes itself until the run is done.
    await progress.getByText(/completed/).waitFor({ timeout: 60_000 });
    expect(await textOf(progress)).toMatch(/(\d+) of \1 payouts handled \(100 %\)/);
    expect(await page.getByTestId("run-counts").isVisible()).toBe(true);
    await screenshot(page, "admin-run-finished");
  });

  it("pauses and resumes payouts", async () => {
    const { page } = session;
    await page.goto(page.url().replace(/\/ops\/.*/, "/ops"));
    await page.getByLabel("Why pause?").fill("e2e: bank incident drill");
    await page.getByRole("button", { name: "Pause payouts" }).click();
    await page.getByTestId("pause-state").getByText("paused").waitFor();
    expect(await textOf(page.getByTestId("pause-state"))).toContain("e2e: bank incident drill");
    await screenshot(page, "admin-paused");

    // Paused: starting a run is refused with a message that says what to do.
    await page.getByRole("button", { name: "Start a run" }).click();
    await page.getByText("Payouts are paused: resume them before starting a run.").waitFor();

    await page.getByRole("button", { name: "Resume payouts" }).click();
    await page.getByTestId("pause-state").getByText("running").waitFor();
    await page.goto(page.url().replace(/\/ops.*/, "/ops/audit?action=payouts.paused"));
    expect(await textOf(page.getByTestId("audit-table"))).toContain("e2e: bank incident drill");
    await screenshot(page, "admin-audit");
  });
});
