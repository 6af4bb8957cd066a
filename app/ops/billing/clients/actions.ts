"use server";

import { z } from "zod";
import { withAction } from "@/lib/api/with-action";
import { cancelClient, changeClientPlan } from "@/lib/billing/clients";
import { planKey } from "@/lib/schemas/billing";
import { getStripeGateway } from "@/lib/stripe/client";

// Clients' ops actions: platform admins only (re-checked on the server for every call), each with an
// explicit confirmation box the form must carry.

const ADMIN = ["platform_admin"] as const;
const confirmed = z.literal("on", { message: "tick the confirmation box" });

export const changePlanAction = withAction(
  {
    name: "changeClientPlan",
    roles: ADMIN,
    page: "/ops/billing/clients",
    form: z.object({ clientId: z.uuid(), plan: planKey, confirm: confirmed }),
    invalid: "Choose a plan and tick the confirmation box.",
    failed: "Could not change the plan",
  },
  async ({ input, user, db, env }) => {
    const client = await changeClientPlan(db, getStripeGateway(), env, {
      id: input.clientId,
      plan: input.plan,
      actor: user.actor,
    });
    return { notice: `${client.name} is now on the ${client.plan} plan.` };
  },
);

export const cancelClientAction = withAction(
  {
    name: "cancelClient",
    roles: ADMIN,
    page: "/ops/billing/clients",
    form: z.object({
      clientId: z.uuid(),
      reason: z.string().trim().min(3).max(500),
      atPeriodEnd: z.literal("on").optional(),
      confirm: confirmed,
    }),
    invalid: "Say why (at least a few words) and tick the confirmation box.",
    failed: "Could not cancel the client",
  },
  async ({ input, user, db }) => {
    const client = await cancelClient(db, getStripeGateway(), {
      id: input.clientId,
      reason: input.reason,
      atPeriodEnd: input.atPeriodEnd === "on",
      actor: user.actor,
    });
    return {
      notice:
        client.status === "canceled"
          ? `${client.name} is cancelled.`
          : `${client.name} is cancelled at the end of the paid period.`,
    };
  },
);
