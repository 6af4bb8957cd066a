import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createOnboardedPayee, startTestStripe } from "../../support/stripe";

const directory = mkdtempSync(path.join(tmpdir(), "stripe-sim-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe("statePath", () => {
  it("keeps accounts, balances, payouts, clock and idempotency keys across restarts", async () => {
    const statePath = path.join(directory, "state.json");
    const first = await startTestStripe({ statePath });
    const payee = await createOnboardedPayee(first, "persisted");
    const transfer = await first.gateway.createTransfer({
      amount: 900,
      currency: "usd",
      destination: payee.id,
      idempotencyKey: "persist-tr",
    });
    const payout = await first.gateway.createPayout({
      stripeAccount: payee.id,
      amount: 400,
      currency: "usd",
      idempotencyKey: "persist-po",
    });
    const advancedTo = first.simulator.advanceClock(3_600);
    await first.close();

    const second = await startTestStripe({ statePath });
    try {
      expect((await second.gateway.retrieveAccount(payee.id)).payouts_enabled).toBe(true);
      expect((await second.gateway.retrieveBalance(payee.id)).available[0]?.amount).toBe(500);
      expect(second.simulator.now()).toBeGreaterThanOrEqual(advancedTo);
      const replay = await second.gateway.createTransfer({
        amount: 900,
        currency: "usd",
        destination: payee.id,
        idempotencyKey: "persist-tr",
      });
      expect(replay.id).toBe(transfer.id);
      second.simulator.advanceClock(86_400);
      expect((await second.gateway.retrievePayout(payee.id, payout.id)).status).toBe("paid");
    } finally {
      await second.close();
    }
  });
});
