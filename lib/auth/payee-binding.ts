import { eq } from "drizzle-orm";
import type { Db } from "../../db/client";
import { payees } from "../../db/schema";
import { isUuid } from "../schemas/common";
import type { AuthUser } from "./user";

/**
 * The payee a `payee` user is bound to: the token's app_metadata.payee_id, else the payees row whose
 * user_id is the token's subject; null when there is none (a subject that is not a UUID can never
 * match payees.user_id). The API refuses such a user (403); pages treat it as having no payee.
 */
export async function boundPayeeId(db: Db, user: AuthUser): Promise<string | null> {
  if (user.payeeId) return user.payeeId;
  if (!isUuid(user.id)) return null;
  const [row] = await db.select({ id: payees.id }).from(payees).where(eq(payees.userId, user.id)).limit(1);
  return row?.id ?? null;
}
