import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../db/client";
import { systemActor } from "../../../lib/actor";
import { getEnv } from "../../../lib/env";
import { claimPayouts } from "../../../lib/payouts/claim";
import { triggerPayoutRun } from "../../../lib/payouts/run";
import { createTestDb, type TestDb } from "../../support/db";
import { startTestStripe, type TestStripe } from "../../support/stripe";
import { seedPayee, useAppEnv } from "../../integration/payouts/helpers";

// The claim's row locks, step by step on two connections (no timing luck): a claim skips what another
// executor holds, and never takes what another claim took.

let t: TestDb;
let ts: TestStripe;
let cycle = 0;

beforeAll(async () => {
  t = await createTestDb();
  ts = await startTestStripe();
  useAppEnv(t.db, ts.simulator.url);
});
afterAll(async () => {
  await ts?.close();
  await t?.close();
});

/** A planned run of `n` payees of its own. */
async function plannedRun(n: number): Promise<string> {
  const payeeIds: string[] = [];
  for (let i = 0; i < n; i++)
    payeeIds.push((await seedPayee(t.db, ts, { connectedCents: 2000 + i })).payeeId);
  cycle++;
  const trig = await triggerPayoutRun(t.db, getEnv(), {
    cycleDate: `2032-0${cycle}-01`,
    payeeIds,
    trigger: "manual",
    actor: systemActor("t"),
  });
  if (trig.kind !== "run") throw new Error("no run");
  return trig.runId;
}

const claim = (db: TestDb["db"], runId: string, owner: string, limit = 10) =>
  claimPayouts(db, { runId, owner, limit, actor: systemActor(owner), leaseSeconds: 300 });

describe("claims on real Postgres", () => {
  it("a claim skips a payout another connection holds locked, at once, instead of waiting for it", async () => {
    const runId = await plannedRun(3);
    const holder = t.connect(1);
    const claimer = t.connect(1);
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    const holding = holder.db.transaction(async (tx) => {
      await tx.execute(sql`select id from payouts where run_id = ${runId} order by id limit 1 for update`);
      locked();
      await held;
    });
    try {
      await isLocked;
      // Without SKIP LOCKED the claim would wait for the holder: the lock timeout makes that an error.
      const claimed = await claimer.db.transaction(async (tx) => {
        await tx.execute(sql`set local lock_timeout = '3s'`);
        return claim(tx, runId, "second");
      });
      expect(claimed.length).toBe(2);
    } finally {
      release();
      await holding;
      await holder.close();
      await claimer.close();
    }
  });

  it("a claim never takes payouts another claim took, even before that claim commits", async () => {
    const runId = await plannedRun(4);
    const a = t.connect(1);
    const b = t.connect(1);
    let commitA!: () => void;
    const aMayCommit = new Promise<void>((r) => {
      commitA = r;
    });
    try {
      let firstIds: string[] = [];
      let claimedA!: () => void;
      const aClaimed = new Promise<void>((r) => {
        claimedA = r;
      });
      const first = a.db.transaction(async (tx) => {
        firstIds = (await claim(tx, runId, "first", 2)).map((p) => p.id);
        claimedA();
        await aMayCommit;
      });
      await aClaimed;
      let secondDone = false;
      const second = claim(b.db, runId, "second", 10).finally(() => {
        secondDone = true;
      });
      // The second claim either finishes on its own (it skipped the locked rows) or waits on the
      // first's row locks: only then may the first commit (pg_locks shows the wait).
      for (;;) {
        if (secondDone) break;
        const [w] = await queryRows<{ n: string }>(
          t.db,
          sql`select count(*) as n from pg_locks where not granted and database = (select oid from pg_database where datname = current_database())`,
        );
        if (Number(w!.n) > 0) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      commitA();
      await first;
      const secondIds = (await second).map((p) => p.id);
      expect(firstIds.length).toBe(2);
      expect(secondIds.length).toBe(2);
      expect(secondIds.filter((id) => firstIds.includes(id))).toEqual([]);
      const owners = await queryRows(
        t.db,
        sql`select lease_owner, attempts from payouts where run_id = ${runId} order by lease_owner`,
      );
      expect(owners).toEqual([
        { lease_owner: "first", attempts: 1 },
        { lease_owner: "first", attempts: 1 },
        { lease_owner: "second", attempts: 1 },
        { lease_owner: "second", attempts: 1 },
      ]);
    } finally {
      commitA();
      await a.close();
      await b.close();
    }
  });
});
