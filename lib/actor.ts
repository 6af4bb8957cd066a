// Who did something, for the audit log: a system job, a webhook event, or a signed-in user.
export type Role = "platform_admin" | "finance" | "payee" | "system";

export type Actor =
  | { type: "system"; id: string; role?: "system" }
  | { type: "webhook"; id: string; role?: "system" }
  | { type: "user"; id: string; role: Role; payeeId?: string | null };

export const systemActor = (job: string): Actor => ({ type: "system", id: job, role: "system" });
export const webhookActor = (eventId: string): Actor => ({ type: "webhook", id: eventId, role: "system" });
export const userActor = (user: { id: string; role: Role; payeeId?: string | null }): Actor => ({
  type: "user",
  id: user.id,
  role: user.role,
  payeeId: user.payeeId ?? null,
});
