// A small five-field cron matcher (minute hour day-of-month month day-of-week) for the local
// scheduler: lists, ranges, steps and `*`, evaluated on the wall clock of a time zone.

function field(spec: string, min: number, max: number): Set<number> {
  const out = new Set<number>();
  for (const part of spec.split(",")) {
    const [range, stepText] = part.split("/") as [string, string | undefined];
    const step = stepText ? Number(stepText) : 1;
    let lo = min;
    let hi = max;
    if (range !== "*") {
      const [a, b] = range.split("-");
      lo = Number(a);
      hi = b === undefined ? (stepText ? max : lo) : Number(b);
    }
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || !Number.isInteger(step) || step < 1) {
      throw new Error(`bad cron field: ${spec}`);
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

export type CronMatcher = (at: Date) => boolean;

export function parseCron(expression: string, timeZone: string): CronMatcher {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`cron needs five fields: ${expression}`);
  const [m, h, dom, mon, dow] = parts as [string, string, string, string, string];
  const minutes = field(m, 0, 59);
  const hours = field(h, 0, 23);
  const days = field(dom, 1, 31);
  const months = field(mon, 1, 12);
  const weekdays = field(dow, 0, 7);
  const fmt = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "numeric",
    weekday: "short",
  });
  const weekdayIndex: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
  return (at: Date) => {
    const parts = Object.fromEntries(fmt.formatToParts(at).map((p) => [p.type, p.value]));
    const wd = weekdayIndex[parts.weekday ?? ""] ?? -1;
    const domStar = dom === "*";
    const dowStar = dow === "*";
    const dayOk =
      domStar || dowStar
        ? days.has(Number(parts.day)) && (weekdays.has(wd) || (wd === 0 && weekdays.has(7)))
        : days.has(Number(parts.day)) || weekdays.has(wd) || (wd === 0 && weekdays.has(7));
    return (
      minutes.has(Number(parts.minute)) && hours.has(Number(parts.hour)) && months.has(Number(parts.month)) && dayOk
    );
  };
}
