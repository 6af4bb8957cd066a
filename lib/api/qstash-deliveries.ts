import { sql } from "drizzle-orm";
import { type Db, queryRows } from "../../db/client";

// A QStash message is applied once. A signed request replayed within its validity window carries
// the same signature (its jti); a message QStash delivers again after a success it did not hear
// about carries the same Upstash-Message-Id. Either way the first successful answer is kept here and
// given again, and the work is not done twice. Only successes are kept, so QStash's retry of a
// failed delivery is applied.
// The work commits in its own lib/ transaction; the id is written right after it (a crash in
// between leaves the id unwritten, and a redelivery then runs the work again, which is idempotent).

/** Long past any QStash retry schedule or signature lifetime. */
export const DELIVERY_RETENTION_DAYS = 30;

export type CompletedDelivery = { status: number; responseBody: string };

export type DeliveryKey = { signatureId: string; messageId?: string };

export async function findCompletedDelivery(db: Db, key: DeliveryKey): Promise<CompletedDelivery | null> {
  const [row] = await queryRows<{ status: number; response_body: string }>(
    db,
    sql`select status, response_body from qstash_deliveries
        where signature_id = ${key.signatureId} ${key.messageId ? sql`or message_id = ${key.messageId}` : sql``}
        limit 1`,
  );
  return row ? { status: Number(row.status), responseBody: row.response_body } : null;
}

/**
 * Remember a delivery that succeeded; a concurrent delivery that also got here keeps the first
 * answer. Rows past the retention go in the same statement (a few at a time: the index on
 * completed_at finds them).
 */
export async function recordCompletedDelivery(
  db: Db,
  delivery: DeliveryKey & { path: string; status: number; responseBody: string },
): Promise<void> {
  await db.execute(
    sql`with pruned as (
          delete from qstash_deliveries where message_id in (
            select message_id from qstash_deliveries
            where completed_at < now() - make_interval(days => ${DELIVERY_RETENTION_DAYS}) limit 100))
        insert into qstash_deliveries (signature_id, message_id, path, status, response_body)
        values (${delivery.signatureId}, ${delivery.messageId ?? null}, ${delivery.path}, ${delivery.status},
                ${delivery.responseBody})
        on conflict do nothing`,
  );
}
