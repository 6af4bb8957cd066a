import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { latestCycle } from "../../lib/payouts/cycle";
import { baseUrl, openSignedIn, screenshot, type Session, textOf } from "./support/browser";

// A payee opens their annual statement from the dashboard: the tax identity Stripe holds, the year's
// totals and the payouts by month; printed, the page drops the navigation and the button.

// The demo seed's latest earnings are three days before the latest cycle's cutoff: that year has them.
const YEAR = new Date(latestCycle(new Date(), "UTC").cutoffAt.getTime() - 3 * 86_400_000).getUTCFullYear();

describe("payee annual statement", () => {
  let session: Session;
  beforeAll(async () => {
    session = await openSignedIn("payee");
  });
  afterAll(async () => {
    await session?.close();
  });

  it("shows the year's totals and identity, and prints without the navigation", async () => {
    const { page } = session;
    await page.goto(`${baseUrl()}/dashboard/statements/${YEAR}`);
    await page.getByRole("heading", { name: `Annual statement ${YEAR}` }).waitFor();
    const identity = await textOf(page.getByTestId("statement-identity"));
    expect(identity).toContain("Pat Payee");
    expect(identity).toMatch(/Country\s+US/);
    expect(identity).toMatch(/Business type\s+Individual/);
    const gross = await textOf(
      page.getByTestId("statement-totals-usd").getByTestId("statement-gross_earnings"),
    );
    expect(gross).toMatch(/\$[1-9][\d,]*\.\d\d/);
    expect(await page.getByTestId("statement-months-usd").isVisible()).toBe(true);
    await screenshot(page, "payee-statement");

    await page.emulateMedia({ media: "print" });
    expect(await page.getByRole("navigation", { name: "Main" }).isVisible()).toBe(false);
    expect(await page.getByRole("button", { name: "Print or save as PDF" }).isVisible()).toBe(false);
    expect(await page.getByTestId("statement-totals-usd").isVisible()).toBe(true);
    await screenshot(page, "payee-statement-print");
    await page.emulateMedia({ media: "screen" });
  });

  it("is linked from the dashboard, and an impossible year is not found", async () => {
    const { page } = session;
    await page.goto(`${baseUrl()}/dashboard`);
    expect(await page.getByTestId("statement-links").getByRole("link").count()).toBe(2);
    const res = await page.goto(`${baseUrl()}/dashboard/statements/99`);
    expect(res?.status()).toBe(404);
  });
});
