"use server";

import { redirect } from "next/navigation";
import { getDb } from "@/db/client";
import { createConnectedAccountForPayee, createDashboardLoginLink, createOnboardingLink } from "@/lib/accounts";
import { requireActionUser } from "@/lib/auth/session";
import { getEnv } from "@/lib/env";
import { getStripeGateway } from "@/lib/stripe/client";

// Payee actions. Each re-checks the session on the server and acts only on the caller's own payee:
// the payee id never comes from the form.

async function ownPayee(): Promise<string> {
  const user = await requireActionUser(["payee"]);
  if (!user.payeeId) redirect("/dashboard?error=Your+sign-in+is+not+linked+to+a+payee+yet.");
  return user.payeeId;
}

/** "Set up payouts": create the Express account if needed, then go to Stripe's hosted onboarding. */
export async function setUpPayoutsAction(): Promise<void> {
  const payeeId = await ownPayee();
  const env = getEnv();
  const db = await getDb();
  let url: string;
  try {
    const gateway = getStripeGateway();
    await createConnectedAccountForPayee(db, gateway, payeeId);
    const base = env.APP_BASE_URL;
    ({ url } = await createOnboardingLink(db, gateway, payeeId, {
      returnUrl: new URL("/dashboard?notice=Welcome+back+from+Stripe.", base).toString(),
      refreshUrl: new URL("/dashboard?notice=That+link+expired%3B+press+Set+up+payouts+again.", base).toString(),
    }));
  } catch (error) {
    redirect(`/dashboard?error=${encodeURIComponent(`Could not open Stripe onboarding: ${(error as Error).message}`)}`);
  }
  redirect(url);
}

/** "Update bank details": a one-time login link to the payee's Stripe Express dashboard. */
export async function updateBankDetailsAction(): Promise<void> {
  const payeeId = await ownPayee();
  const db = await getDb();
  let url: string;
  try {
    ({ url } = await createDashboardLoginLink(db, getStripeGateway(), payeeId));
  } catch (error) {
    redirect(`/dashboard?error=${encodeURIComponent(`Could not open your Stripe dashboard: ${(error as Error).message}`)}`);
  }
  redirect(url);
}
