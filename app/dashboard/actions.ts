"use server";

import { z } from "zod";
import { createConnectedAccountForPayee, createDashboardLoginLink, createOnboardingLink } from "@/lib/accounts";
import { withAction } from "@/lib/api/with-action";
import { payoutFailureText } from "@/lib/dashboard/failure-reasons";
import { requestInstantPayout } from "@/lib/instant-payouts";
import { formatMoney } from "@/lib/money";
import { instantPayoutForm } from "@/lib/schemas/instant-payouts";
import { getStripeGateway } from "@/lib/stripe/client";

// Payee actions. Each re-checks the session on the server (withAction) and acts only on the caller's
// own payee: the payee id never comes from the form.

const NOT_LINKED = { error: "Your sign-in is not linked to a payee yet." } as const;
const payeeAction = (name: string, failed: string) => ({
  name,
  roles: ["payee"] as const,
  page: "/dashboard",
  form: z.object({}),
  invalid: "That request was malformed; reload the page.",
  failed,
});

/** "Set up payouts": create the Express account if needed, then go to Stripe's hosted onboarding. */
export const setUpPayoutsAction = withAction(
  payeeAction("setUpPayouts", "Could not open Stripe onboarding"),
  async ({ user, db, env }) => {
    if (!user.payeeId) return NOT_LINKED;
    const gateway = getStripeGateway();
    await createConnectedAccountForPayee(db, gateway, user.payeeId);
    const { url } = await createOnboardingLink(db, gateway, user.payeeId, {
      returnUrl: new URL("/dashboard?notice=Welcome+back+from+Stripe.", env.APP_BASE_URL).toString(),
      refreshUrl: new URL("/dashboard?notice=That+link+expired%3B+press+Set+up+payouts+again.", env.APP_BASE_URL).toString(),
    });
    return { redirectTo: url };
  },
);

/** "Update bank details": a one-time login link to the payee's Stripe Express dashboard. */
export const updateBankDetailsAction = withAction(
  payeeAction("updateBankDetails", "Could not open your Stripe dashboard"),
  async ({ user, db }) => {
    if (!user.payeeId) return NOT_LINKED;
    const { url } = await createDashboardLoginLink(db, getStripeGateway(), user.payeeId);
    return { redirectTo: url };
  },
);

/**
 * "Confirm instant payout": the amount and fee the payee saw in the quote, and the confirmation's own
 * key (a second press of the same form makes no second payout). The fee is checked again under the
 * lock: a different fee is refused and the payee sees the new quote.
 */
export const takeInstantPayoutAction = withAction(
  {
    name: "takeInstantPayout",
    roles: ["payee"] as const,
    page: "/dashboard",
    form: instantPayoutForm,
    invalid: "That request was malformed; reload the page and look at the quote again.",
    failed: "Instant payout refused",
  },
  async ({ user, db, env, input }) => {
    if (!user.payeeId) return NOT_LINKED;
    const { payout } = await requestInstantPayout(db, getStripeGateway(), env, {
      payeeId: user.payeeId,
      ...input,
      actor: user.actor,
    });
    const net = formatMoney(payout.amountCents, payout.currency);
    if (payout.status === "failed")
      return {
        error: `Instant payout failed: ${payoutFailureText(payout.failureCode, payout.failureMessage)} Your money and the fee are back in your available balance.`,
      };
    if (payout.status === "processing")
      return { notice: `Your instant payout of ${net} is being sent; it shows here within a few minutes.` };
    return { notice: `Your instant payout of ${net} is on its way to your card; it usually arrives within 30 minutes.` };
  },
);
