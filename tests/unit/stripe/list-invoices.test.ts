import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStripe, type TestStripe } from "../../support/stripe";

// gateway.listInvoices: how the create-placement-invoices sweep finds an invoice whose create answer
// was lost once Stripe's 24 h idempotency window is over.
let t: TestStripe;
beforeAll(async () => {
  t = await startTestStripe();
});
afterAll(async () => {
  await t.close();
});

describe("gateway: listInvoices", () => {
  it("lists one customer's invoices newest first, with their metadata, and pages", async () => {
    const customer = await t.gateway.createCustomer({
      email: "a@x.example",
      name: "A",
      idempotencyKey: "cus-a",
    });
    const other = await t.gateway.createCustomer({
      email: "b@x.example",
      name: "B",
      idempotencyKey: "cus-b",
    });
    const made = [];
    for (const n of [1, 2, 3]) {
      made.push(
        await t.gateway.createInvoice({
          customer: customer.id,
          collectionMethod: "send_invoice",
          daysUntilDue: 30,
          metadata: { placement_invoice_id: `row-${n}` },
          idempotencyKey: `inv-${n}`,
        }),
      );
    }
    await t.gateway.createInvoice({
      customer: other.id,
      collectionMethod: "send_invoice",
      daysUntilDue: 30,
      idempotencyKey: "inv-other",
    });

    const all = await t.gateway.listInvoices({ customer: customer.id, limit: 100 });
    expect(all.data.map((i) => i.id).sort()).toEqual(made.map((i) => i.id).sort());
    expect(all.data.map((i) => i.metadata?.placement_invoice_id).sort()).toEqual(["row-1", "row-2", "row-3"]);

    const first = await t.gateway.listInvoices({ customer: customer.id, limit: 2 });
    expect(first.data).toHaveLength(2);
    expect(first.has_more).toBe(true);
    const rest = await t.gateway.listInvoices({
      customer: customer.id,
      limit: 2,
      startingAfter: first.data[1]!.id,
    });
    expect(rest.data).toHaveLength(1);
    expect(new Set([...first.data, ...rest.data].map((i) => i.id)).size).toBe(3);

    const drafts = await t.gateway.listInvoices({ customer: customer.id, status: "draft" });
    expect(drafts.data).toHaveLength(3);
    expect((await t.gateway.listInvoices({ customer: customer.id, status: "open" })).data).toHaveLength(0);
  });
});
