import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseUrl, openBrowser, type Session, screenshot, signInAs, textOf } from "./support/browser";

// A payee signs in and sees their balance, the next payout and their history; also on a phone.

describe("payee dashboard", () => {
  let session: Session;
  beforeAll(async () => {
    session = await openBrowser();
  });
  afterAll(async () => {
    await session?.close();
  });

  it("sends a signed-out visitor to sign-in", async () => {
    const { page } = session;
    await page.goto(`${baseUrl()}/dashboard`);
    await page.waitForURL(/\/sign-in\?next=%2Fdashboard/);
    expect(await page.getByRole("heading", { name: "Sign in to Payrun" }).isVisible()).toBe(true);
    await screenshot(page, "sign-in");
  });

  it("shows the balance, next payout and earnings history", async () => {
    const { page } = session;
    await signInAs(page, "payee");
    await page.getByRole("heading", { name: "My payouts" }).waitFor();
    const balance = page.getByTestId("balance-usd");
    await balance.waitFor();
    expect(await textOf(balance.getByTestId("balance-available"))).toMatch(/^\$[\d,]+\.\d\d$/);
    expect(await textOf(page.getByTestId("next-payout-date"))).toMatch(/\d{4}/);
    expect(await page.getByTestId("next-payout-amount").isVisible()).toBe(true);
    // The demo data paid this payee in the previous cycle's run.
    const payouts = page.getByTestId("payout-history");
    expect(await payouts.locator("tbody tr").count()).toBeGreaterThanOrEqual(1);
    expect(await textOf(payouts)).toMatch(/paid|in transit/);
    const history = page.getByTestId("ledger-history");
    expect(await history.locator("tbody tr").count()).toBeGreaterThanOrEqual(3);
    expect(await textOf(page.getByTestId("onboarding-status"))).toContain("Payouts are set up");
    expect(await page.getByRole("button", { name: "Update bank details" }).isVisible()).toBe(true);
    await screenshot(page, "payee-dashboard");
  });

  it("keeps a payee out of the ops console", async () => {
    const { page } = session;
    const opsUrl = new URL("/ops", page.url()).toString();
    await page.goto(opsUrl);
    await page.waitForURL(/\/dashboard/);
    expect(new URL(page.url()).pathname).toBe("/dashboard");
    // the ops console's own controls are nowhere on the page the payee lands on
    expect(await page.getByRole("button", { name: "Pause payouts" }).count()).toBe(0);
    expect(await page.getByTestId("pause-state").count()).toBe(0);
  });

  it("is usable on a phone", async () => {
    const phone = await openBrowser({ mobile: true });
    try {
      await signInAs(phone.page, "payee");
      await phone.page.getByTestId("balance-usd").waitFor();
      // No horizontal scrolling: the page fits the 390 px viewport.
      const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(1);
      await screenshot(phone.page, "payee-dashboard-phone");
    } finally {
      await phone.close();
    }
  });
});
