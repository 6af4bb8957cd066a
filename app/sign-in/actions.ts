"use server";

import { redirect } from "next/navigation";
import { z } from "zod";
import { SAME_SITE_PATH } from "@/lib/auth/next-path";
import { homeFor, signInAsDemoUser, signInWithPassword } from "@/lib/auth/session";

const nextPath = z.string().regex(SAME_SITE_PATH).optional().catch(undefined);

const demoForm = z.object({ userId: z.uuid(), next: nextPath });
const passwordForm = z.object({ email: z.email(), password: z.string().min(1).max(200), next: nextPath });

export async function signInDemoAction(formData: FormData): Promise<void> {
  const parsed = demoForm.safeParse({ userId: formData.get("userId"), next: formData.get("next") || undefined });
  if (!parsed.success) redirect("/sign-in?error=Pick+one+of+the+demo+users.");
  let home: string;
  try {
    const user = await signInAsDemoUser(parsed.data.userId);
    home = homeFor(user.role);
  } catch (error) {
    redirect(`/sign-in?error=${encodeURIComponent((error as Error).message)}`);
  }
  redirect(parsed.data.next ?? home);
}

export async function signInPasswordAction(formData: FormData): Promise<void> {
  const parsed = passwordForm.safeParse({
    email: formData.get("email"),
    password: formData.get("password"),
    next: formData.get("next") || undefined,
  });
  if (!parsed.success) redirect("/sign-in?error=Enter+your+email+and+password.");
  let home: string;
  try {
    const user = await signInWithPassword(parsed.data.email, parsed.data.password);
    home = homeFor(user.role);
  } catch (error) {
    redirect(`/sign-in?error=${encodeURIComponent((error as Error).message)}`);
  }
  redirect(parsed.data.next ?? home);
}
