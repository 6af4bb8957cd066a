import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DEMO_PAYEE_ID } from "../../lib/demo/users";
import { openBrowser, type Session, screenshot, signInAs, textOf } from "./support/browser";

// A payee takes their available balance now: asks for the instant payout quote, sees the fee and
// what reaches their card before anything happens, confirms, and sees the payout on its way.

const simulator = () => inject("simulatorUrl");
const auth = { authorization: "Bearer sk_test_simulator" };

/** The demo payee's connected account at the simulator (its metadata names the payee). */
async function demoPayeeAccount(): Promise<string> {
  const res = await fetch(`${simulator()}/v1/accounts?limit=100`, { headers: auth });
  const body = (await res.json()) as { data: { id: string; metadata: Record<string, string> }[] };
  return body.data.find((a) => a.metadata.payee_id === DEMO_PAYEE_ID)!.id;
}

const dollars = (text: string) => Math.round(Number(text.replace(/[^\d.]/g, "")) * 100);

describe("instant payout from the dashboard", () => {
  let session: Session;
  beforeAll(async () => {
    session = await openBrowser();
  });
  afterAll(async () => {
    await session?.close();
  });

  it("without an eligible debit card the payee is told why, and nothing is offered", async () => {
    const { page } = session;
    await signInAs(page, "payee");
    await page.getByRole("button", { name: "See instant payout fee" }).click();
    await page.waitForURL(/instant=quote/);
    expect(await textOf(page.getByTestId("instant-reason"))).toMatch(/debit card/);
    expect(await page.getByRole("button", { name: "Confirm instant payout" }).count()).toBe(0);
  });

  it("shows the fee first, then pays it to the card on confirmation", async () => {
    const { page } = session;
    const account = await demoPayeeAccount();
    const card = await fetch(`${simulator()}/_simulator/accounts/${account}/debit_card`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(card.status).toBe(200);
    const base = page.url().replace(/\/dashboard.*/, "");
    await page.goto(`${base}/dashboard`);
    const available = dollars(await textOf(page.getByTestId("balance-usd").getByTestId("balance-available")));
    expect(available).toBeGreaterThan(0);

    await page.getByRole("button", { name: "See instant payout fee" }).click();
    const quote = page.getByTestId("instant-quote");
    await quote.waitFor();
    // the fee and what reaches the card, before anything is sent
    const amount = dollars(await textOf(page.getByTestId("instant-amount")));
    const fee = dollars((await textOf(page.getByTestId("instant-fee"))).split("(")[0]!);
    const net = dollars(await textOf(page.getByTestId("instant-net")).then((t) => t.split(" on ")[0]!));
    expect(amount).toBe(available);
    expect(fee).toBe(Math.max(50, Math.round((amount * 150) / 10_000)));
    expect(net).toBe(amount - fee);
    expect(await textOf(quote)).toContain("ending 5556");
    const before = await fetch(`${simulator()}/v1/payouts?limit=100`, {
      headers: { ...auth, "stripe-account": account },
    });
    const countBefore = ((await before.json()) as { data: unknown[] }).data.length;
    await screenshot(page, "instant-payout-quote");

    await page.getByRole("button", { name: "Confirm instant payout" }).click();
    await page.getByText(/instant payout of .* is on its way to your card/).waitFor();
    expect(await textOf(page.getByTestId("balance-usd").getByTestId("balance-available"))).toBe("$0.00");
    const history = await textOf(page.getByTestId("payout-history"));
    expect(history).toContain("Instant");
    expect(history).toContain("Instant payout fee");
    await screenshot(page, "instant-payout-sent");

    // at Stripe: one instant payout of the net amount
    const after = await fetch(`${simulator()}/v1/payouts?limit=100`, {
      headers: { ...auth, "stripe-account": account },
    });
    const payouts = ((await after.json()) as { data: { amount: number; method: string }[] }).data;
    expect(payouts.length).toBe(countBefore + 1);
    expect(payouts[0]).toMatchObject({ amount: net, method: "instant" });
  });
});
