// Fixed demo identities shared by the local sign-in page and the demo seed (lib/demo/seed.ts), so a
// fresh embedded install can be signed into without Supabase. Never used when Supabase is configured.
import type { Role } from "../actor";

export type DemoUser = {
  id: string;
  email: string;
  name: string;
  role: Exclude<Role, "system">;
  payeeId: string | null;
  /** One line on the sign-in page saying what this user can do. */
  blurb: string;
};

export const DEMO_PAYEE_ID = "00000000-0000-4000-8000-00000000d001";

export const DEMO_USERS: readonly DemoUser[] = [
  {
    id: "00000000-0000-4000-8000-0000000000a1",
    email: "payee@demo.payrun.local",
    name: "Pat Payee",
    role: "payee",
    payeeId: DEMO_PAYEE_ID,
    blurb: "A creator: balance, next payout, history, bank details.",
  },
  {
    id: "00000000-0000-4000-8000-0000000000a2",
    email: "admin@demo.payrun.local",
    name: "Ada Admin",
    role: "platform_admin",
    payeeId: null,
    blurb: "Platform admin: runs, retries, pause switch, replays, holds.",
  },
  {
    id: "00000000-0000-4000-8000-0000000000a3",
    email: "finance@demo.payrun.local",
    name: "Fin Finance",
    role: "finance",
    payeeId: null,
    blurb: "Finance: everything in the ops console, read-only.",
  },
];

export function findDemoUser(id: string): DemoUser | undefined {
  return DEMO_USERS.find((u) => u.id === id);
}
