import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { sql } from "drizzle-orm";
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as journalRoute from "@/app/api/v1/accounting/journal.csv/route";
import * as trialBalanceRoute from "@/app/api/v1/accounting/trial-balance/route";
import { queryRows } from "@/db/client";
import { payees } from "@/db/schema";
import { defaultChartOfAccounts, glAccountOf } from "@/lib/chart-of-accounts";
import { JOURNAL_COLUMNS, journalCsv, newJournalProgress } from "@/lib/accounting/journal";
import { trialBalance } from "@/lib/accounting/trial-balance";
import { LOCAL_SESSION_COOKIE } from "@/lib/auth/session";
import { resetEnvCache } from "@/lib/env";
import { type PostingInput, platformBalances, postLedgerTransactions } from "@/lib/ledger";
import { toCents } from "@/lib/money";
import type { TrialBalance } from "@/lib/schemas/accounting";
import { apiRequest, routeParams, tokenFor } from "../../support/auth";
import { createTestDb, type TestDb } from "../../support/db";

// The accounting export of a seeded month: the journal balances to zero per transaction and per
// currency, holds every entry of the month and nothing else, quotes what needs quoting, and the
// trial balance equals the ledger's balances, GL account by GL account. Bad queries are 400s; only
// finance and admins get it (401, 403), by token or by the ops page's session.

let t: TestDb;
let financeToken: string;
let adminToken: string;
let payeeToken: string;
const chart = defaultChartOfAccounts();
const noParams = routeParams({}) as never;
const ids: string[] = [];

type JournalRow = Record<(typeof JOURNAL_COLUMNS)[number], string>;

/** "12.34" → 1234 (two decimals, as the journal writes usd and eur), without a float. */
const cents = (decimal: string) => {
  if (decimal === "") return 0;
  const [whole, fraction = ""] = decimal.split(".");
  return Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
};

const journal = async (query: string, token: string | null = financeToken) =>
  journalRoute.GET(
    apiRequest("GET", `/api/v1/accounting/journal.csv?${query}`, { token: token ?? undefined }),
    noParams,
  );
const rowsOf = async (res: Response): Promise<JournalRow[]> =>
  parse(await res.text(), { columns: true, skip_empty_lines: true, relax_quotes: false }) as JournalRow[];
const tb = async (query: string, token: string | null = financeToken) =>
  trialBalanceRoute.GET(
    apiRequest("GET", `/api/v1/accounting/trial-balance?${query}`, { token: token ?? undefined }),
    noParams,
  );

const at = (iso: string) => new Date(iso);

beforeAll(async () => {
  t = await createTestDb();
  for (const key of [
    "SUPABASE_URL",
    "SUPABASE_ANON_KEY",
    "SUPABASE_JWT_SECRET",
    "VERCEL",
    "ACCOUNTING_GL_MAP",
    "ACCOUNTING_GL_MAP_FILE",
    "ACCOUNTING_TIMEZONE",
  ])
    delete process.env[key];
  resetEnvCache();
  (globalThis as { __payrunDb?: unknown }).__payrunDb = {
    handle: { close: async () => {} },
    ready: Promise.resolve(t.db),
  };
  financeToken = await tokenFor("finance");
  adminToken = await tokenFor("platform_admin");
  const rows = await t.db
    .insert(payees)
    .values([
      { displayName: 'Ada, "the" Lovelace', email: "ada@example.com" },
      { displayName: '=HYPERLINK("http://evil")', email: "eve@example.com" },
    ])
    .returning({ id: payees.id });
  ids.push(...rows.map((r) => r.id));
  payeeToken = await tokenFor("payee", { payeeId: ids[0] });
  const [ada, eve] = ids as [string, string];

  const postings: PostingInput[] = [];
  const earning = (
    key: string,
    payeeId: string,
    amount: number,
    fee: number,
    when: string,
    currency = "usd",
  ): PostingInput => ({
    idempotencyKey: key,
    kind: "earning",
    description: `Destination charge ch_${key}`,
    currency,
    payeeId,
    sourceType: "charge",
    sourceId: `ch_${key}`,
    effectiveAt: at(when),
    lines: [
      { kind: "stripe_clearing", amount: -amount },
      { payeeId, kind: "available", location: "connected", amount: amount - fee },
      { kind: "fees", amount: fee },
    ],
    stripeRefs: [
      { account: "platform", object: `ch_${key}`, amount: fee },
      { account: "acct_test1", object: `ch_${key}`, amount: amount - fee },
    ],
  });
  // Before the month, to be left out of it but in the balances.
  postings.push(earning("dec", ada, 10_000, 1_000, "2025-12-20T12:00:00Z"));
  for (let day = 1; day <= 30; day++) {
    const when = `2026-01-${String(day).padStart(2, "0")}T${String(day % 24).padStart(2, "0")}:00:00Z`;
    const amount = 1_000 + day * 7;
    postings.push(earning(`jan${day}`, day % 2 ? ada : eve, amount, Math.round(amount / 10), when));
    postings.push({
      idempotencyKey: `fee:jan${day}`,
      kind: "stripe_processing_fee",
      description: `Stripe's processing fee on ch_jan${day}`,
      currency: "usd",
      sourceType: "balance_transaction",
      sourceId: `txn_jan${day}`,
      effectiveAt: at(when),
      lines: [
        { kind: "stripe_fees", amount: -(30 + day) },
        { kind: "stripe_clearing", amount: 30 + day },
      ],
      stripeRefs: [{ account: "platform", object: `ch_jan${day}`, amount: -(30 + day) }],
    });
  }
  postings.push(
    {
      idempotencyKey: "adj:jan5",
      kind: "adjustment",
      description: "-fix, as agreed",
      currency: "usd",
      payeeId: ada,
      effectiveAt: at("2026-01-05T09:00:00Z"),
      lines: [
        { kind: "adjustments", amount: -100 },
        { payeeId: ada, kind: "available", amount: 100 },
      ],
    },
    {
      idempotencyKey: "refund:jan10",
      kind: "refund",
      description: "Refund re_1\nsecond line",
      currency: "usd",
      payeeId: ada,
      allowNegative: true,
      effectiveAt: at("2026-01-10T10:00:00Z"),
      lines: [
        { payeeId: ada, kind: "available", location: "connected", amount: -300 },
        { kind: "losses", amount: -200 },
        { kind: "stripe_clearing", amount: 500 },
      ],
      stripeRefs: [
        { account: "acct_test1", object: "re_1", amount: -300 },
        { account: "platform", object: "re_1", amount: -200 },
      ],
    },
    {
      idempotencyKey: "plan:jan15",
      kind: "payout_planned",
      description: "Payout planned",
      currency: "usd",
      payeeId: ada,
      sourceType: "payout",
      sourceId: "p1",
      effectiveAt: at("2026-01-15T00:00:00Z"),
      lines: [
        { payeeId: ada, kind: "available", location: "connected", amount: -5_000 },
        { payeeId: ada, kind: "in_transit", location: "connected", amount: 5_000 },
      ],
    },
    {
      idempotencyKey: "sent:jan20",
      kind: "payout_sent",
      description: "Payout sent",
      currency: "usd",
      payeeId: ada,
      effectiveAt: at("2026-01-20T00:00:00Z"),
      lines: [
        { payeeId: ada, kind: "in_transit", location: "connected", amount: -5_000 },
        { payeeId: ada, kind: "in_transit", location: "bank", amount: 5_000 },
      ],
      stripeRefs: [{ account: "acct_test1", object: "po_1", amount: -5_000 }],
    },
    {
      idempotencyKey: "paid:jan22",
      kind: "payout_paid",
      description: "Payout paid",
      currency: "usd",
      payeeId: ada,
      effectiveAt: at("2026-01-22T00:00:00Z"),
      lines: [
        { payeeId: ada, kind: "in_transit", location: "bank", amount: -5_000 },
        { payeeId: ada, kind: "paid", amount: 5_000 },
      ],
    },
    {
      idempotencyKey: "eur:jan12",
      kind: "placement_share",
      description: "Placement share",
      currency: "eur",
      payeeId: eve,
      effectiveAt: at("2026-01-12T08:00:00Z"),
      lines: [
        { kind: "stripe_clearing", amount: -2_000 },
        { payeeId: eve, kind: "available", amount: 1_500 },
        { kind: "fees", amount: 500 },
      ],
    },
    // The month's last moment is in it; the next month's first is not.
    earning("last", eve, 700, 70, "2026-01-31T23:59:59.999Z"),
    earning("feb", eve, 900, 90, "2026-02-01T00:00:00Z"),
  );
  await postLedgerTransactions(t.db, postings);
});
afterAll(() => t.close());

/** Independent of the export: the month's entries and each GL account's net, from the ledger tables. */
async function ledgerMonth() {
  return queryRows<{
    transaction_id: string;
    owner_type: "payee" | "platform";
    kind: string;
    location: string;
    currency: string;
    amount: string | number;
  }>(
    t.db,
    sql`select e.transaction_id, a.owner_type, a.kind, a.location, e.currency, e.amount
        from ledger_entries e join ledger_accounts a on a.id = e.account_id
        where e.effective_at >= '2026-01-01T00:00:00Z' and e.effective_at < '2026-02-01T00:00:00Z'`,
  );
}

describe("journal.csv", () => {
  it("a month: every entry once, each transaction and the file balanced per currency", async () => {
    const res = await journal("from=2026-01-01&to=2026-01-31");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/csv");
    expect(res.headers.get("content-disposition")).toBe(
      'attachment; filename="journal_2026-01-01_2026-01-31.csv"',
    );
    const text = await res.clone().text();
    expect(text.split("\r\n")[0]).toBe(JOURNAL_COLUMNS.join(","));
    const rows = await rowsOf(res);

    const expected = await ledgerMonth();
    expect(rows.length).toBe(expected.length);
    expect(new Set(rows.map((r) => r.transaction_id))).toEqual(
      new Set(expected.map((e) => e.transaction_id)),
    );
    expect(new Set(rows.map((r) => r.entry_id)).size).toBe(rows.length);

    const perTransaction = new Map<string, number>();
    const perCurrency = new Map<string, { debit: number; credit: number }>();
    for (const r of rows) {
      expect(r.date >= "2026-01-01" && r.date <= "2026-01-31").toBe(true);
      expect(r.debit === "" || r.credit === "").toBe(true);
      expect(r.debit !== "" || r.credit !== "").toBe(true);
      const net = cents(r.credit) - cents(r.debit);
      perTransaction.set(
        `${r.transaction_id}:${r.currency}`,
        (perTransaction.get(`${r.transaction_id}:${r.currency}`) ?? 0) + net,
      );
      const c = perCurrency.get(r.currency) ?? { debit: 0, credit: 0 };
      c.debit += cents(r.debit);
      c.credit += cents(r.credit);
      perCurrency.set(r.currency, c);
    }
    for (const [key, sum] of perTransaction) expect([key, sum]).toEqual([key, 0]);
    expect([...perCurrency.keys()].sort()).toEqual(["EUR", "USD"]);
    for (const { debit, credit } of perCurrency.values()) {
      expect(debit).toBeGreaterThan(0);
      expect(debit).toBe(credit);
    }

    // GL net per code and currency equals the ledger's own sum of the month's entries.
    const glNet = (list: { code: string; currency: string; net: number }[]) => {
      const m = new Map<string, number>();
      for (const x of list) m.set(`${x.code}:${x.currency}`, (m.get(`${x.code}:${x.currency}`) ?? 0) + x.net);
      return m;
    };
    expect(
      glNet(
        rows.map((r) => ({
          code: r.gl_code,
          currency: r.currency.toLowerCase(),
          net: cents(r.credit) - cents(r.debit),
        })),
      ),
    ).toEqual(
      glNet(
        expected.map((e) => ({
          code: glAccountOf(chart, e.owner_type, e.kind, e.location).code,
          currency: e.currency,
          net: toCents(e.amount),
        })),
      ),
    );
  });

  it("names the GL account, the payee, the source and the Stripe ids; quotes and defuses what needs it", async () => {
    const res = await journal("from=2026-01-01&to=2026-01-31&currency=USD");
    const text = await res.clone().text();
    const rows = await rowsOf(res);
    expect(new Set(rows.map((r) => r.currency))).toEqual(new Set(["USD"]));

    const charge = rows.filter((r) => r.source_id === "ch_jan3");
    expect(charge.map((r) => [r.gl_code, r.gl_name, r.ledger_account, r.debit, r.credit])).toEqual(
      expect.arrayContaining([
        ["1010", "Stripe clearing", "platform.stripe_clearing", "10.21", ""],
        ["2111", "Payee balances available (connected accounts)", "payee.available.connected", "", "9.19"],
        ["4000", "Platform fee revenue", "platform.fees", "", "1.02"],
      ]),
    );
    for (const r of charge) {
      expect(r.kind).toBe("earning");
      expect(r.date).toBe("2026-01-03");
      expect(r.effective_at).toBe("2026-01-03T03:00:00.000000Z");
      expect(r.stripe_objects).toBe("ch_jan3");
      expect(r.stripe_accounts).toBe("acct_test1 platform");
    }
    expect(charge.find((r) => r.ledger_account === "payee.available.connected")!.payee_name).toBe(
      'Ada, "the" Lovelace',
    );
    expect(charge.find((r) => r.ledger_account === "platform.fees")!.payee_id).toBe("");

    const fee = rows.filter((r) => r.kind === "stripe_processing_fee" && r.source_id === "txn_jan3");
    expect(fee.map((r) => [r.gl_code, r.gl_name, r.debit, r.credit]).sort()).toEqual([
      ["1010", "Stripe clearing", "", "0.33"],
      ["5100", "Stripe processing fees", "0.33", ""],
    ]);
    // RFC 4180: quotes doubled, commas and line breaks inside quotes, CRLF between records.
    expect(text).toContain('"Ada, ""the"" Lovelace"');
    expect(text).toContain('"Refund re_1\nsecond line"');
    expect(rows.find((r) => r.kind === "refund")!.description).toBe("Refund re_1\nsecond line");
    // A spreadsheet would run these as formulas: they start with a quote.
    expect(rows.some((r) => r.payee_name === `'=HYPERLINK("http://evil")`)).toBe(true);
    expect(rows.find((r) => r.kind === "adjustment")!.description).toBe("'-fix, as agreed");
    // The month's last moment is in, the next month's first is not.
    expect(rows.some((r) => r.source_id === "ch_last")).toBe(true);
    expect(rows.some((r) => r.source_id === "ch_feb" || r.source_id === "ch_dec")).toBe(false);
  });

  it("is byte for byte what csv-stringify makes of each whole row", async () => {
    // The export assembles rows from csv-stringify's encodings of their parts (lib/accounting/journal.ts);
    // stringifying the rows read back, whole, with the same options must give the same text. (Cells
    // escaped as formulas already start with a quote, which stringify leaves alone.)
    for (const pageSize of [1, 3, 10_000]) {
      let text = "";
      for await (const chunk of journalCsv(t.db, {
        from: "2026-01-01",
        to: "2026-01-31",
        timeZone: "UTC",
        chart,
        pageSize,
      }))
        text += chunk;
      const records = parse(text, { relax_quotes: false }) as string[][];
      expect(records.length).toBe((await ledgerMonth()).length + 1);
      expect(text).toContain('"Refund re_1\nsecond line"');
      expect(
        stringify(records, {
          record_delimiter: "windows",
          quote_record_delimiter: true,
          escape_formulas: true,
        }),
      ).toBe(text);
    }
  });

  it("pages of whole transactions make the same file as one page", async () => {
    const read = async (pageSize: number) => {
      let text = "";
      for await (const chunk of journalCsv(t.db, {
        from: "2026-01-01",
        to: "2026-01-31",
        timeZone: "UTC",
        chart,
        pageSize,
      }))
        text += chunk;
      return text;
    };
    const progress = newJournalProgress();
    let chunks = 0;
    for await (const _ of journalCsv(
      t.db,
      { from: "2026-01-01", to: "2026-01-31", timeZone: "UTC", chart, pageSize: 4 },
      progress,
    ))
      chunks++;
    expect(chunks).toBeGreaterThan(10);
    expect(await read(4)).toBe(await read(10_000));
    expect(await read(1)).toBe(await read(10_000));
    expect(progress.totals.get("usd")!.debit).toBe(progress.totals.get("usd")!.credit);
    expect(progress.rows).toBe((await ledgerMonth()).length);
  });

  it("days are the books' time zone's: New York's January ends at 05:00 UTC on February 1", async () => {
    const ids = async (timeZone: string) => {
      let text = "";
      for await (const chunk of journalCsv(t.db, { from: "2026-01-01", to: "2026-01-31", timeZone, chart }))
        text += chunk;
      return new Set((parse(text, { columns: true }) as JournalRow[]).map((r) => r.source_id));
    };
    const ny = await ids("America/New_York");
    expect(ny.has("ch_feb")).toBe(true); // 2026-01-31 19:00 in New York
    expect(ny.has("ch_jan1")).toBe(false); // 2025-12-31 20:00 in New York
    expect((await ids("UTC")).has("ch_jan1")).toBe(true);
  });

  it("a month without postings is the header alone", async () => {
    const res = await journal("from=2025-06-01&to=2025-06-30");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`${JOURNAL_COLUMNS.join(",")}\r\n`);
  });

  it("a bad query is a 400 that says what is wrong", async () => {
    const cases: [string, RegExp][] = [
      ["from=2026-02-01&to=2026-01-01", /from must not be after to/],
      ["from=2026-01-01&to=2026-01-31&currency=xyz", /currency is not an ISO 4217 currency/],
      ["from=2026-01-01&to=2026-01-31&currency=dollars", /currency must be a three-letter ISO 4217 code/],
      ["from=2025-01-01&to=2026-01-02", /367 days; at most 366/],
      ["from=2026-01-01", /to/],
      ["from=2026-13-01&to=2026-12-31", /from must be a date/],
      ["from=2026-01-01&to=2026-01-31%00", /to/],
    ];
    for (const [query, message] of cases) {
      const res = await journal(query);
      expect([query, res.status]).toEqual([query, 400]);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("bad_request");
      expect(body.error.message).toMatch(message);
    }
    // 366 days is allowed (a leap year).
    expect((await journal("from=2024-01-01&to=2024-12-31")).status).toBe(200);
  });

  it("finance and admins only: 401 without a token, 403 for a payee", async () => {
    expect((await journal("from=2026-01-01&to=2026-01-31", null)).status).toBe(401);
    expect((await journal("from=2026-01-01&to=2026-01-31", payeeToken)).status).toBe(403);
    expect((await journal("from=2026-01-01&to=2026-01-31", adminToken)).status).toBe(200);
    expect((await tb("", null)).status).toBe(401);
    expect((await tb("", payeeToken)).status).toBe(403);
    expect((await tb("", adminToken)).status).toBe(200);
  });

  it("the ops page's download: its session cookie stands for the token", async () => {
    const withCookie = (
      token: string,
      path = "/api/v1/accounting/journal.csv?from=2026-01-01&to=2026-01-31",
    ) =>
      new NextRequest(`http://127.0.0.1:9${path}`, {
        headers: { cookie: `${LOCAL_SESSION_COOKIE}=${token}` },
      });
    const ok = await journalRoute.GET(withCookie(financeToken), noParams);
    expect(ok.status).toBe(200);
    expect((await rowsOf(ok)).length).toBe((await ledgerMonth()).length);
    expect((await journalRoute.GET(withCookie(payeeToken), noParams)).status).toBe(403);
    expect((await journalRoute.GET(withCookie("not-a-token"), noParams)).status).toBe(401);
    expect(
      (
        await trialBalanceRoute.GET(
          withCookie(adminToken, "/api/v1/accounting/trial-balance?at=2026-01-31"),
          noParams,
        )
      ).status,
    ).toBe(200);
  });
});

describe("journal.csv while the ledger moves", () => {
  it("postings recorded after the export started are not in it, even effective inside the period", async () => {
    const progress = newJournalProgress();
    const reading = journalCsv(
      t.db,
      { from: "2026-01-01", to: "2026-01-31", timeZone: "UTC", chart, pageSize: 2 },
      progress,
    );
    let text = "";
    const first = await reading.next();
    text += first.done ? "" : first.value;
    expect(text).not.toContain("2026-01-29");
    // Effective on the 29th (not read yet), recorded now: a late Stripe fee, say.
    await postLedgerTransactions(t.db, [
      {
        idempotencyKey: "late:jan29",
        kind: "stripe_processing_fee",
        description: "Stripe's processing fee, posted late",
        currency: "usd",
        sourceType: "balance_transaction",
        sourceId: "txn_late",
        effectiveAt: at("2026-01-29T12:00:00Z"),
        lines: [
          { kind: "stripe_fees", amount: -77 },
          { kind: "stripe_clearing", amount: 77 },
        ],
      },
    ]);
    for (;;) {
      const next = await reading.next();
      if (next.done) break;
      text += next.value;
    }
    const rows = parse(text, { columns: true }) as JournalRow[];
    expect(rows.some((r) => r.source_id === "txn_late")).toBe(false);
    expect(rows.length).toBe((await ledgerMonth()).length - 2);
    expect(progress.totals.get("usd")!.debit).toBe(progress.totals.get("usd")!.credit);
    // An export started now has it.
    let after = "";
    for await (const chunk of journalCsv(t.db, {
      from: "2026-01-01",
      to: "2026-01-31",
      timeZone: "UTC",
      chart,
    }))
      after += chunk;
    expect((parse(after, { columns: true }) as JournalRow[]).some((r) => r.source_id === "txn_late")).toBe(
      true,
    );
  });
});

describe("trial-balance", () => {
  /** The ledger's own balances at a moment, per GL code and currency: entries summed directly. */
  async function ledgerBalancesByGl(before?: string) {
    const rows = await queryRows<{
      owner_type: "payee" | "platform";
      kind: string;
      location: string;
      currency: string;
      total: string | number;
    }>(
      t.db,
      sql`select a.owner_type, a.kind, a.location, e.currency, sum(e.amount) as total
          from ledger_entries e join ledger_accounts a on a.id = e.account_id
          ${before ? sql`where e.effective_at < ${before}::timestamptz` : sql``}
          group by 1, 2, 3, 4`,
    );
    const out = new Map<string, number>();
    for (const r of rows) {
      const key = `${glAccountOf(chart, r.owner_type, r.kind, r.location).code}:${r.currency.toUpperCase()}`;
      out.set(key, (out.get(key) ?? 0) + toCents(r.total));
    }
    for (const [k, v] of out) if (v === 0) out.delete(k);
    return out;
  }
  const byGl = (balance: TrialBalance) => {
    const out = new Map<string, number>();
    for (const c of balance.currencies)
      for (const l of c.lines)
        if (l.creditCents - l.debitCents !== 0)
          out.set(`${l.glCode}:${c.currency}`, l.creditCents - l.debitCents);
    return out;
  };

  it("at a day's close equals the ledger's balances then, and debits equal credits per currency", async () => {
    const res = await tb("at=2026-01-31");
    expect(res.status).toBe(200);
    const body = (await res.json()) as TrialBalance;
    expect(body.at).toBe("2026-02-01T00:00:00.000Z");
    expect(byGl(body)).toEqual(await ledgerBalancesByGl("2026-02-01T00:00:00Z"));
    for (const c of body.currencies) {
      expect(c.balanced).toBe(true);
      expect(c.totalDebitCents).toBe(c.totalCreditCents);
    }
    const usd = body.currencies.find((c) => c.currency === "USD")!;
    expect(usd.lines.find((l) => l.glCode === "2190")).toMatchObject({
      glName: "Payee payouts paid to bank",
      credit: "50.00",
      debit: "0.00",
    });
    expect(usd.lines.find((l) => l.glCode === "2111")!.ledgerAccounts).toEqual(["payee.available.connected"]);
  });

  it("now equals the kept balances (lib/ledger), and a moment is included", async () => {
    const now = byGl(await trialBalance(t.db, { timeZone: "UTC", chart }));
    expect(now).toEqual(await ledgerBalancesByGl());
    for (const kind of ["stripe_clearing", "fees", "stripe_fees", "losses", "adjustments"] as const) {
      const code = glAccountOf(chart, "platform", kind, "platform").code;
      for (const [currency, balance] of Object.entries(await platformBalances(t.db, kind)))
        expect([kind, currency, now.get(`${code}:${currency.toUpperCase()}`) ?? 0]).toEqual([
          kind,
          currency,
          balance,
        ]);
    }
    const atMoment = byGl((await (await tb("at=2026-02-01T00:00:00Z")).json()) as TrialBalance);
    expect(atMoment).toEqual(await ledgerBalancesByGl("2026-02-01T00:00:00.000001Z"));
    expect(atMoment).not.toEqual(await ledgerBalancesByGl("2026-02-01T00:00:00Z"));
  });

  it("the month's journal is the difference between the trial balances at its two ends", async () => {
    const start = byGl((await (await tb("at=2025-12-31")).json()) as TrialBalance);
    const end = byGl((await (await tb("at=2026-01-31")).json()) as TrialBalance);
    const rows = await rowsOf(await journal("from=2026-01-01&to=2026-01-31"));
    const moved = new Map<string, number>();
    for (const r of rows)
      moved.set(
        `${r.gl_code}:${r.currency}`,
        (moved.get(`${r.gl_code}:${r.currency}`) ?? 0) + cents(r.credit) - cents(r.debit),
      );
    for (const key of new Set([...start.keys(), ...end.keys(), ...moved.keys()]))
      expect([key, (end.get(key) ?? 0) - (start.get(key) ?? 0)]).toEqual([key, moved.get(key) ?? 0]);
  });

  it("one currency, and bad queries are 400s", async () => {
    const eur = (await (await tb("at=2026-01-31&currency=eur")).json()) as TrialBalance;
    expect(eur.currencies.map((c) => c.currency)).toEqual(["EUR"]);
    for (const query of ["at=yesterday", "at=2026-02-30", "currency=xyz", "at=2026-01-31T25:00:00Z"]) {
      const res = await tb(query);
      expect([query, res.status]).toEqual([query, 400]);
    }
  });
});
