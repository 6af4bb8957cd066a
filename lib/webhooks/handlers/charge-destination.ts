import { expandableId, type WebhookGateway } from "../types";

// The rule for refunds and disputes Payrun has no earning for: Payrun credits payees only from
// destination charges (transfer_data.destination), so a refund or dispute of any other charge
// (a placement invoice's payment, a plain platform charge) has no payee credit to take back and is
// "ignored", not left pending for ever. Chargebacks on placement invoices are handled by ops with
// a ledger adjustment, not by the webhooks. A destination charge with no earning yet stays pending:
// its payment_intent.succeeded has not been applied.

/**
 * Did this charge pay a connected account? Reads transfer_data from the object when the event
 * carries it (charge.refunded, or an expanded dispute.charge); otherwise retrieves the charge from
 * Stripe (a dispute names its charge by id), which only happens for a charge with no earning.
 */
export async function isDestinationCharge(charge: unknown, gateway: () => WebhookGateway): Promise<boolean> {
  if (charge && typeof charge === "object" && "transfer_data" in charge) {
    return expandableId((charge as { transfer_data?: { destination?: unknown } | null }).transfer_data?.destination) !== null;
  }
  const chargeId = expandableId(charge);
  if (!chargeId) return false;
  const retrieved = await gateway().retrieveCharge(chargeId);
  return expandableId(retrieved.transfer_data?.destination) !== null;
}
