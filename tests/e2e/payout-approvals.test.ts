import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DEMO_USERS } from "../../lib/demo/users";
import { tokenFor } from "../support/auth";
import { baseUrl, openSignedIn, screenshot, type Session, textOf } from "./support/browser";

// Four-eyes approval in the browser. The app runs with PAYOUT_APPROVAL_THRESHOLD_CENTS {"usd":2000000}
// (global-setup). Two new payees earn $25,000 each through a real destination charge at the simulator
// (the webhook credits them); a run for just them plans both as awaiting approval. An admin approves
// one on /ops/approvals and the run sends it. The finance user changed the other payee's payout
// settings (through the API, while holding admin rights) and is refused on that payout: the page
// says why and offers no button.

const simulator = () => inject("simulatorUrl");
const FINANCE = DEMO_USERS.find((u) => u.role === "finance")!;

async function api(path: string, token: string, method = "POST", body: unknown = {}) {
  const res = await fetch(`${baseUrl()}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
async function internal(path: string, body: unknown) {
  const res = await fetch(`${baseUrl()}${path}`, {
    method: "POST",
    headers: { "x-cron-secret": inject("cronSecret"), "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}
async function control(path: string, body: unknown = {}) {
  const res = await fetch(`${simulator()}/_simulator/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** A payee with an onboarded Express account and $25,000 credited from a destination charge. */
async function earningPayee(admin: string, name: string): Promise<string> {
  const created = await api("/api/v1/payees", admin, "POST", {
    displayName: name,
    email: `${name.replace(/\W/g, "").toLowerCase()}-${Date.now()}@example.com`,
  });
  expect(created.status).toBe(201);
  const payeeId = String(created.body.id);
  const account = await api(`/api/v1/payees/${payeeId}/connected-account`, admin);
  const accountId = String(account.body.stripeAccountId);
  await control(`accounts/${accountId}/onboard`);
  await control("charges", { destination: accountId, amount: 2_800_000, application_fee_amount: 300_000 });
  return payeeId;
}

describe("payout approvals", () => {
  let admin: Session;
  let finance: Session;
  const ids: { approved?: string; guarded?: string; runId?: string } = {};

  beforeAll(async () => {
    const adminToken = await tokenFor("platform_admin");
    ids.approved = await earningPayee(adminToken, "Ava Approved");
    ids.guarded = await earningPayee(adminToken, "Gus Guarded");
    // The webhooks credit both; then a run for just these two plans both above the threshold.
    const payeeIds = [ids.approved, ids.guarded];
    for (let i = 0; i < 60; i++) {
      const dry = await internal("/internal/payouts/run", {
        dryRun: true,
        payeeIds,
        cycleDate: "2031-01-01",
      });
      if ((dry.report as { awaitingApproval: number }).awaitingApproval === 2) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const run = await internal("/internal/payouts/run", { payeeIds, cycleDate: "2031-01-01" });
    ids.runId = String(run.runId);
    // The finance person changed Gus's payout settings (when they held admin rights): audited as them.
    const asFinanceAdmin = await tokenFor("platform_admin", { userId: FINANCE.id });
    const patched = await api(`/api/v1/payees/${ids.guarded}/payout-settings`, asFinanceAdmin, "PATCH", {
      betaRollout: true,
    });
    expect(patched.status).toBe(200);

    admin = await openSignedIn("platform_admin");
    finance = await openSignedIn("finance");
  });
  afterAll(async () => {
    await admin?.close();
    await finance?.close();
  });

  it("an admin approves a large payout with a reason, and the run sends it", async () => {
    const { page } = admin;
    await page.goto(`${baseUrl()}/ops/approvals`);
    await page.getByRole("heading", { name: "Payout approvals", level: 1 }).waitFor();
    const row = page.getByTestId("approvals-table").getByRole("row").filter({ hasText: "Ava Approved" });
    expect(await textOf(row)).toContain("$25,000.00");
    await screenshot(page, "approvals-queue");
    await row.getByLabel("Reason").fill("e2e: contract checked");
    await row.getByRole("button", { name: "Approve" }).click();
    await page.getByText("Payout approved; the run is sending it.").waitFor();
    expect(
      await page.getByTestId("approvals-table").getByRole("row").filter({ hasText: "Ava Approved" }).count(),
    ).toBe(0);

    // The run page follows the reopened run until it has sent it.
    await page.goto(`${baseUrl()}/ops/runs/${ids.runId}`);
    await page
      .getByTestId("run-progress")
      .getByText(/completed/)
      .waitFor({ timeout: 60_000 });
    await page.getByTestId("count-in_transit").getByText("1").waitFor({ timeout: 60_000 });
    expect(await textOf(page.getByTestId("count-awaiting_approval"))).toBe("1");
    await screenshot(page, "approvals-run-sent");
    await page.goto(`${baseUrl()}/ops/audit?action=payout.approved`);
    expect(await textOf(page.getByTestId("audit-table"))).toContain("e2e: contract checked");
  });

  it("finance cannot approve a payout for a payee whose settings they changed", async () => {
    const { page } = finance;
    await page.goto(`${baseUrl()}/ops/approvals`);
    const row = page.getByTestId("approvals-table").getByRole("row").filter({ hasText: "Gus Guarded" });
    await row.waitFor();
    expect(await textOf(row.getByTestId("approval-refused"))).toMatch(
      /You changed this payee's payout or bank settings/,
    );
    expect(await row.getByRole("button", { name: "Approve" }).count()).toBe(0);
    await screenshot(page, "approvals-finance-refused");
  });
});
