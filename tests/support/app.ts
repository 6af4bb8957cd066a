import { type Db, setAppDb } from "@/db/client";
import { resetEnvCache } from "@/lib/env";
import { resetStripeClient } from "@/lib/stripe/client";

/** Variables that would send the app's auth to Supabase or make it act as deployed on Vercel. */
const HOSTED_AUTH = ["SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_JWT_SECRET", "VERCEL"] as const;

/**
 * Point the app's singletons (getDb, getEnv, getStripe) at this suite: its database, and `env` set
 * on top of the process's (undefined unsets). Route handlers called in-process then use them. Local
 * tokens (tokenFor) work because Supabase is unset.
 */
export function configureApp(db: Db, env: Record<string, string | undefined> = {}): void {
  for (const key of HOSTED_AUTH) delete process.env[key];
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  resetEnvCache();
  resetStripeClient();
  setAppDb(db);
}
