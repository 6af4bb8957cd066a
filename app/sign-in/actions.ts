"use server";

import { z } from "zod";
import { withAction } from "@/lib/api/with-action";
import { SAME_SITE_PATH } from "@/lib/auth/next-path";
import { homeFor, signInAsDemoUser, signInWithPassword } from "@/lib/auth/session";

const nextPath = z.string().regex(SAME_SITE_PATH).optional().catch(undefined);

export const signInDemoAction = withAction(
  {
    name: "signInDemo",
    roles: "anyone",
    page: "/sign-in",
    form: z.object({ userId: z.uuid(), next: nextPath }),
    invalid: "Pick one of the demo users.",
    failed: "Could not sign in",
  },
  async ({ input }) => {
    const user = await signInAsDemoUser(input.userId);
    return { redirectTo: input.next ?? homeFor(user.role) };
  },
);

export const signInPasswordAction = withAction(
  {
    name: "signInPassword",
    roles: "anyone",
    page: "/sign-in",
    form: z.object({ email: z.email(), password: z.string().min(1).max(200), next: nextPath }),
    invalid: "Enter your email and password.",
    failed: "Could not sign in",
  },
  async ({ input }) => {
    const user = await signInWithPassword(input.email, input.password);
    return { redirectTo: input.next ?? homeFor(user.role) };
  },
);
