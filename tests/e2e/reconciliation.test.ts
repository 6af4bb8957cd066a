import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openBrowser, openSignedIn, screenshot, type Session, signInAs, textOf } from "./support/browser";

// The reconciliation page: an admin runs a pass over the demo data (the ledger and the simulator
// agree), makes Stripe move money Payrun never heard of (an adjustment through the simulator's
// control API), runs a pass again, sees the breaks with both amounts, and resolves them with a
// reason. Finance sees the same page with the export buttons and no button that changes anything.

const simulator = () => inject("simulatorUrl");

async function someConnectedAccount(): Promise<string> {
  const res = await fetch(`${simulator()}/v1/accounts?limit=1`, {
    headers: { authorization: "Bearer sk_test_simulator" },
  });
  const body = (await res.json()) as { data: { id: string }[] };
  return body.data[0]!.id;
}

describe("reconciliation page", () => {
  let admin: Session;
  beforeAll(async () => {
    admin = await openSignedIn("platform_admin");
  });
  afterAll(async () => {
    await admin?.close();
  });

  it("runs a pass, shows a difference made at Stripe with both amounts, and resolves it with a reason", async () => {
    const { page } = admin;
    const base = page.url().replace(/\/ops.*/, "");
    await page.goto(`${base}/ops/reconciliation`);
    await page.getByRole("heading", { name: "Reconciliation", level: 1 }).waitFor();
    await page.getByRole("button", { name: "Reconcile now" }).click();
    await page.getByText(/Reconciled \d+ account\(s\)/).waitFor();
    expect(await textOf(page.getByTestId("last-pass"))).toContain("completed");
    expect(await page.getByTestId("no-breaks").isVisible()).toBe(true);
    await screenshot(page, "reconciliation-clean");

    const account = await someConnectedAccount();
    const made = await fetch(`${simulator()}/_simulator/accounts/${account}/balance_transactions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ amount: 123, description: "e2e: an adjustment Payrun never heard of" }),
    });
    expect(made.status).toBe(200);
    const adjustment = ((await made.json()) as { id: string }).id;

    await page.getByRole("button", { name: "Reconcile now" }).click();
    await page.getByText(/Reconciled \d+ account\(s\)/).waitFor();
    const byKind = await textOf(page.getByTestId("breaks-by-kind"));
    expect(byKind).toContain("missing in ledger");
    expect(byKind).toContain("balance drift");
    const table = page.getByTestId("breaks-table");
    const text = await textOf(table);
    expect(text).toContain(adjustment);
    expect(text).toContain(account);
    expect(text).toContain("$1.23");
    await screenshot(page, "reconciliation-breaks");

    // Resolve both: each leaves the open list, with the reason in the audit log.
    for (let left = 2; left > 0; left--) {
      const row = table.getByRole("row").filter({ hasText: account }).first();
      await row.getByLabel("Why is it accepted?").fill("e2e: adjustment made on purpose at Stripe");
      await row.getByRole("button", { name: "Resolve" }).click();
      // The notice from the first resolve is still on the page: wait for the row to go instead.
      await expect
        .poll(() => table.getByRole("row").filter({ hasText: account }).count(), { timeout: 15_000 })
        .toBe(left - 1);
    }
    await page.getByTestId("no-breaks").waitFor({ timeout: 15_000 });
    expect(await page.getByText("Break resolved").isVisible()).toBe(true);
    await page.goto(`${base}/ops/audit?action=reconciliation_break.resolved`);
    expect(await textOf(page.getByTestId("audit-table"))).toContain(
      "e2e: adjustment made on purpose at Stripe",
    );
  });

  it("offers the export and the out-of-band form; finance gets the export only", async () => {
    const { page } = admin;
    const base = page.url().replace(/\/ops.*/, "");
    await page.goto(`${base}/ops/reconciliation`);
    expect(await page.getByRole("button", { name: "Download journal (CSV)" }).isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: "Record payout" }).isVisible()).toBe(true);

    const finance = await openBrowser();
    try {
      await signInAs(finance.page, "finance");
      await finance.page.goto(`${base}/ops/reconciliation`);
      await finance.page.getByRole("heading", { name: "Reconciliation", level: 1 }).waitFor();
      expect(await finance.page.getByRole("button", { name: "Download journal (CSV)" }).isVisible()).toBe(
        true,
      );
      expect(await finance.page.getByRole("button", { name: "Trial balance" }).isVisible()).toBe(true);
      expect(
        await finance.page.getByRole("button", { name: /Reconcile now|Resolve|Record payout/ }).count(),
      ).toBe(0);
      await screenshot(finance.page, "reconciliation-finance");
    } finally {
      await finance.close();
    }
  });
});
