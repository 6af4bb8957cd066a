import type { Placement, PlacementStatus } from "../../db/schema";
import type { OutboxMessage } from "../outbox";

/**
 * The outgoing `placement.status_changed` event. The dedupe key is the placement and its new status:
 * a placement reaches each status once, so a retried sweep or request never enqueues it twice.
 */
export function placementStatusChanged(
  placement: Pick<Placement, "id" | "payeeId">,
  oldStatus: PlacementStatus,
  newStatus: PlacementStatus,
  changedAt: Date,
): OutboxMessage {
  return {
    type: "placement.status_changed",
    destination: "webhook",
    aggregateType: "placement",
    aggregateId: placement.id,
    dedupeKey: `placement.status_changed:${placement.id}:${newStatus}`,
    payload: {
      placementId: placement.id,
      payeeId: placement.payeeId,
      oldStatus,
      newStatus,
      changedAt: changedAt.toISOString(),
    },
  };
}
