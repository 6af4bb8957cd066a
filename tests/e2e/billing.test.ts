import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openBrowser, openSignedIn, screenshot, type Session, signInAs, textOf } from "./support/browser";

// The billing page over the demo data: the demo client's invoice (its client in the pilot, its card
// authorised). An admin captures part of it and refunds part of that, each after a confirmation
// (a dismissed confirmation does nothing); the timeline shows both. Finance sees the same invoices
// and timeline with no action.

describe("billing page", () => {
  let admin: Session;
  beforeAll(async () => {
    admin = await openSignedIn("platform_admin");
  });
  afterAll(async () => {
    await admin?.close();
  });

  it("an admin captures and refunds with a confirmation; finance sees it read-only", async () => {
    const { page } = admin;
    const base = page.url().replace(/\/ops.*/, "");
    await page.goto(`${base}/ops/billing`);
    await page.getByRole("heading", { name: "Billing", level: 1 }).waitFor();
    expect(await textOf(page.getByTestId("rollout-stage"))).toBe("pilot");
    const authorised = page
      .getByTestId("invoices-table")
      .getByRole("row")
      .filter({ hasText: "Card authorised" })
      .first();
    const invoice = await authorised.getAttribute("data-invoice");
    expect(invoice).toMatch(/^in_/);
    // The same invoice's row after each reload.
    const row = page.locator(`tr[data-invoice="${invoice}"]`);
    expect(await textOf(row)).toContain("$9,000.00");

    // A dismissed confirmation captures nothing.
    page.once("dialog", (d) => void d.dismiss());
    await row.getByLabel(/Amount to capture/).fill("6000.00");
    await row.getByRole("button", { name: "Capture" }).click();
    expect(await textOf(row.getByTestId("captured"))).toBe("$0.00");

    page.once("dialog", (d) => {
      expect(d.message()).toContain("Capture the client's authorised payment");
      void d.accept();
    });
    await row.getByRole("button", { name: "Capture" }).click();
    await page.getByText(/Captured 6000\.00 USD/).waitFor();
    const captured = row;
    expect(await textOf(captured.getByTestId("captured"))).toBe("$6,000.00");

    page.once("dialog", (d) => {
      expect(d.message()).toContain("Refund the client");
      void d.accept();
    });
    await captured.getByLabel(/Amount to refund/).fill("1500.00");
    await captured.getByLabel("Reason").selectOption("service_issue");
    await captured.getByLabel("Note").fill("e2e: partial refund");
    await captured.getByRole("button", { name: "Refund" }).click();
    await page.getByText(/Refunded 1500\.00 USD in all/).waitFor();
    const refunded = row;
    expect(await textOf(refunded.getByTestId("refunded"))).toBe("$1,500.00");
    const timeline = await textOf(refunded);
    for (const step of [
      "Created",
      "Finalized",
      "Card authorised",
      "Captured",
      "Partly refunded",
      "Funds available",
    ])
      expect(timeline).toContain(step);
    await screenshot(page, "billing-admin");

    const finance = await openBrowser();
    try {
      await signInAs(finance.page, "finance");
      await finance.page.goto(`${base}/ops/billing`);
      await finance.page.getByRole("heading", { name: "Billing", level: 1 }).waitFor();
      const text = await textOf(finance.page.getByTestId("invoices-table"));
      expect(text).toContain("Partly refunded");
      expect(text).toContain("$6,000.00");
      expect(await finance.page.getByRole("button", { name: /Capture|Refund|Post adjustment/ }).count()).toBe(
        0,
      );
      await screenshot(finance.page, "billing-finance");
    } finally {
      await finance.close();
    }
  });
});
