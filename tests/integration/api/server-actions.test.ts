import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { type ActionSpec, resolveAction } from "@/lib/api/with-action";
import { userActor } from "@/lib/actor";
import type { SessionUser } from "@/lib/auth/session";
import type { UserRole } from "@/lib/auth/user";
import { DomainError } from "@/lib/errors";
import { createTestDb, type TestDb } from "../../support/db";
import { configureApp } from "../../support/app";

// The server-action wrapper (lib/api/with-action.ts), short of Next's redirect: where each case ends.
// Refusals used to be plain Errors thrown from requireActionUser: a 500 page, a stack in the log and
// a Sentry event for anyone who posted a form without credentials.

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
  configureApp(t.db);
});
afterAll(() => t.close());

const errorLines = vi.spyOn(console, "error");
afterEach(() => errorLines.mockClear());

const spec: ActionSpec<
  z.ZodObject<{ runId: z.ZodUUID; reason: z.ZodOptional<z.ZodString> }>,
  readonly UserRole[]
> = {
  name: "test",
  roles: ["platform_admin"],
  page: "/ops",
  back: (input) => `/ops/runs/${input.runId}`,
  form: z.object({ runId: z.uuid(), reason: z.string().max(50).optional() }),
  invalid: "Malformed request.",
  failed: "Not done",
};
const RUN = "00000000-0000-4000-8000-000000000001";

function userWith(role: UserRole): SessionUser {
  const user = { id: `u-${role}`, role, payeeId: null, email: null };
  return { ...user, actor: userActor(user) };
}
function form(values: Record<string, string>) {
  const data = new FormData();
  data.set("$ACTION_ID_abc", "");
  for (const [k, v] of Object.entries(values)) data.set(k, v);
  return data;
}
const query = (url: string) => Object.fromEntries(new URL(url, "http://x").searchParams);

describe("server actions behind withAction", () => {
  it("signed out: to sign-in and back, the action never runs", async () => {
    const handler = vi.fn();
    expect(await resolveAction(spec, handler, null, form({ runId: RUN }))).toBe("/sign-in?next=%2Fops");
    expect(handler).not.toHaveBeenCalled();
  });

  it("a role not allowed: a 403-style message on the page, no stack, nothing reported", async () => {
    const handler = vi.fn();
    const url = await resolveAction(spec, handler, userWith("finance"), form({ runId: RUN }));
    expect(url.startsWith("/ops?")).toBe(true);
    expect(query(url).error).toBe("Your role (finance) may not do this.");
    expect(handler).not.toHaveBeenCalled();
    expect(errorLines).not.toHaveBeenCalled();
  });

  it("a form that does not parse, NUL included: the form's own message", async () => {
    const handler = vi.fn();
    for (const values of [{ runId: "nope" }, { runId: RUN, reason: "a\u0000b" }] as Record<
      string,
      string
    >[]) {
      const url = await resolveAction(spec, handler, userWith("platform_admin"), form(values));
      expect(query(url).error).toBe("Malformed request.");
    }
    expect(handler).not.toHaveBeenCalled();
  });

  it("the outcome: a notice on the page the input names, or a redirect", async () => {
    const admin = userWith("platform_admin");
    const done = await resolveAction(
      spec,
      async ({ input, user }) => ({ notice: `ok ${input.reason} ${user.role}` }),
      admin,
      form({ runId: RUN, reason: "r" }),
    );
    expect(done).toBe(`/ops/runs/${RUN}?notice=${encodeURIComponent("ok r platform_admin")}`);
    expect(
      await resolveAction(
        spec,
        async () => ({ redirectTo: "https://connect.stripe.com/x" }),
        admin,
        form({ runId: RUN }),
      ),
    ).toBe("https://connect.stripe.com/x");
  });

  it("a domain error: its message, which is written for people; nothing reported", async () => {
    const url = await resolveAction(
      spec,
      async () => {
        throw new DomainError("conflict", "payout is paid; only failed payouts can be retried");
      },
      userWith("platform_admin"),
      form({ runId: RUN }),
    );
    expect(query(url).error).toBe("Not done: payout is paid; only failed payouts can be retried");
    expect(errorLines).not.toHaveBeenCalled();
  });

  it("anything else: reported once, and its text never reaches the URL", async () => {
    const url = await resolveAction(
      spec,
      async () => {
        throw new Error("Failed query: update payees set email = $1\nparams: alice@example.com");
      },
      userWith("platform_admin"),
      form({ runId: RUN }),
    );
    expect(query(url).error).toBe("Not done: something went wrong; it has been reported.");
    expect(url).not.toContain("alice");
    expect(errorLines).toHaveBeenCalledTimes(1);
  });
});
