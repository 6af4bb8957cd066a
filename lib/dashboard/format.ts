// Display helpers shared by the pages. Money stays integer cents until the last moment: the
// decimal string is built from integers and handed to Intl as a string (no float rounding).

const ZERO_DECIMAL = new Set(["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]);

export function formatCents(cents: number, currency: string): string {
  const code = currency.toUpperCase();
  const negative = cents < 0;
  const abs = Math.abs(cents);
  const decimal = ZERO_DECIMAL.has(currency.toLowerCase())
    ? String(abs)
    : `${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
  try {
    const format = new Intl.NumberFormat("en-US", { style: "currency", currency: code });
    // Intl accepts a decimal string exactly (no conversion through a float).
    const text = format.format(decimal as unknown as number);
    return negative ? `-${text}` : text;
  } catch {
    return `${negative ? "-" : ""}${decimal} ${code}`;
  }
}

export function formatDate(value: Date | string | null | undefined, timeZone = "UTC"): string {
  if (!value) return "—";
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return "—";
  return new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeZone }).format(date);
}

export function formatDateTime(value: Date | string | null | undefined, timeZone = "UTC"): string {
  if (!value) return "—";
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return "—";
  return new Intl.DateTimeFormat("en-US", { dateStyle: "medium", timeStyle: "short", timeZone }).format(date);
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.round(m / 6) / 10;
  if (h < 48) return `${h} h`;
  return `${Math.round(h / 2.4) / 10} days`;
}

/** Basis points or a 0..1 ratio as "97.5 %". */
export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return "—";
  return `${Math.round(ratio * 1000) / 10} %`;
}
