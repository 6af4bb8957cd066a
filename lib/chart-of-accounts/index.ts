import {
  type FundsLocation,
  type LedgerAccountKind,
  payeeAccountSlots,
  platformAccountKinds,
} from "../../db/schema/ledger";
import { unstorableText } from "../schemas/common";
import defaultMap from "./gl-map.default.json";

// The chart of accounts: which general-ledger account (code and name) each ledger account books to.
// A ledger account is a payee bucket at a location (payee.available.connected, ...) or a platform
// account (platform.fees, ...). The map names a GL account per key; a payee key may leave out the
// location ("payee.available") to cover every location of that bucket, and a key with the location
// wins over it. The default is gl-map.default.json beside this file; finance replaces it whole with
// ACCOUNTING_GL_MAP_FILE or ACCOUNTING_GL_MAP (lib/env.ts), checked at start: every ledger account
// must have a GL account, and nothing else may be named (a typo would otherwise be ignored).

export type GlAccount = { code: string; name: string };
export type GlMapInput = Record<string, unknown>;

/** Every ledger account there can be, as the key the map uses with its location. */
export type LedgerAccountKey = `payee.${string}.${FundsLocation}` | `platform.${string}`;

export type ChartOfAccounts = {
  /** Where the map came from, for messages: "default", a file path, or ACCOUNTING_GL_MAP. */
  source: string;
  /** Every ledger account (`payee.<kind>.<location>`, `platform.<kind>`) and its GL account. */
  accounts: ReadonlyMap<string, GlAccount>;
};

/** The key of one ledger account: `payee.<kind>.<location>` or `platform.<kind>`. */
export function ledgerAccountKey(
  ownerType: "payee" | "platform",
  kind: LedgerAccountKind | string,
  location: FundsLocation | string,
): string {
  return ownerType === "payee" ? `payee.${kind}.${location}` : `platform.${kind}`;
}

/** Every ledger account the schema allows, with the keys that may map it (most specific first). */
export function ledgerAccountSlots(): { key: string; candidates: string[] }[] {
  return [
    ...payeeAccountSlots.map(([kind, location]) => ({
      key: ledgerAccountKey("payee", kind, location),
      candidates: [`payee.${kind}.${location}`, `payee.${kind}`],
    })),
    ...platformAccountKinds.map((kind) => ({
      key: ledgerAccountKey("platform", kind, "platform"),
      candidates: [`platform.${kind}`],
    })),
  ];
}

const GL_CODE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,31}$/;

/**
 * The chart from a map (parsed JSON), or the problems with it, each naming the key: an unmapped
 * ledger account, an unknown key, a bad code or name, one code with two names.
 */
export function parseChartOfAccounts(
  input: unknown,
  source: string,
): { chart: ChartOfAccounts } | { problems: string[] } {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    return {
      problems: [`${source}: must be a JSON object of "ledger account": { "code": ..., "name": ... }`],
    };
  }
  const map = input as GlMapInput;
  const problems: string[] = [];
  const slots = ledgerAccountSlots();
  const known = new Set(slots.flatMap((s) => s.candidates));
  const entries = new Map<string, GlAccount>();
  for (const [key, value] of Object.entries(map)) {
    if (!known.has(key)) {
      problems.push(`${source}: "${key}" is not a ledger account (known: ${[...known].join(", ")})`);
      continue;
    }
    const gl = value as Partial<Record<"code" | "name", unknown>> | null;
    const code = typeof gl?.code === "string" ? gl.code.trim() : undefined;
    const name = typeof gl?.name === "string" ? gl.name.trim() : undefined;
    if (!code || !GL_CODE.test(code)) {
      problems.push(`${source}: "${key}" needs a "code": 1 to 32 letters, digits, or . _ / - (e.g. "2110")`);
      continue;
    }
    if (!name || name.length > 120 || unstorableText(name)) {
      problems.push(`${source}: "${key}" needs a "name" of 1 to 120 characters`);
      continue;
    }
    entries.set(key, { code, name });
  }
  const accounts = new Map<string, GlAccount>();
  const unmapped: string[] = [];
  for (const slot of slots) {
    const found = slot.candidates.map((c) => entries.get(c)).find((gl) => gl !== undefined);
    if (found) accounts.set(slot.key, found);
    else if (!slot.candidates.some((c) => map[c] !== undefined)) unmapped.push(slot.key);
  }
  for (const key of unmapped) {
    const kindKey = key.startsWith("payee.") ? key.split(".").slice(0, 2).join(".") : undefined;
    problems.push(
      `${source}: ledger account ${key} has no GL account (add "${key}"${kindKey ? ` or "${kindKey}"` : ""})`,
    );
  }
  const nameOfCode = new Map<string, string>();
  for (const [key, gl] of entries) {
    const earlier = nameOfCode.get(gl.code);
    if (earlier !== undefined && earlier !== gl.name) {
      problems.push(
        `${source}: GL code ${gl.code} has two names ("${earlier}" and "${gl.name}", at "${key}"); one code, one name`,
      );
    }
    nameOfCode.set(gl.code, gl.name);
  }
  return problems.length > 0 ? { problems } : { chart: { source, accounts } };
}

/** The map in the repo (gl-map.default.json); a test keeps it complete. */
export function defaultChartOfAccounts(): ChartOfAccounts {
  const parsed = parseChartOfAccounts(defaultMap, "lib/chart-of-accounts/gl-map.default.json");
  if ("problems" in parsed) throw new Error(parsed.problems.join("\n"));
  return parsed.chart;
}

/** The GL account of a ledger account; every one is mapped (checked when the chart was parsed). */
export function glAccountOf(
  chart: ChartOfAccounts,
  ownerType: "payee" | "platform",
  kind: string,
  location: string,
): GlAccount {
  return glAccountOfKey(chart, ledgerAccountKey(ownerType, kind, location));
}

/** The same, by the ledger account's key (`payee.available.connected`, `platform.fees`). */
export function glAccountOfKey(chart: ChartOfAccounts, key: string): GlAccount {
  const gl = chart.accounts.get(key);
  if (!gl) throw new Error(`ledger account ${key} has no GL account in ${chart.source}`);
  return gl;
}
