import { errorText, log } from "../observability/log";
import { parseCron } from "./cron";
import type { ScheduleDefinition } from "./schedules";

export type LocalScheduler = { stop(): void; fire(id: string): Promise<number> };

/**
 * With QSTASH_TOKEN unset, fire the same schedule definitions at the local server once a minute,
 * with X-Cron-Secret. Each schedule fires at most once per matching minute, never overlapping itself.
 */
export function startLocalScheduler(options: {
  baseUrl: string;
  cronSecret: string;
  definitions: ScheduleDefinition[];
  /** How often to look at the clock (tests speed this up). */
  tickMs?: number;
  now?: () => Date;
  fetchImpl?: typeof fetch;
}): LocalScheduler {
  const doFetch = options.fetchImpl ?? fetch;
  const now = options.now ?? (() => new Date());
  const matchers = options.definitions.map((d) => ({ def: d, matches: parseCron(d.cron, d.timeZone) }));
  const lastFired = new Map<string, number>();
  const inFlight = new Set<string>();

  const fire = async (def: ScheduleDefinition): Promise<number> => {
    inFlight.add(def.id);
    try {
      const res = await doFetch(new URL(def.path, options.baseUrl), {
        method: "POST",
        headers: { "content-type": "application/json", "x-cron-secret": options.cronSecret },
        body: JSON.stringify(def.body),
      });
      if (!res.ok) log.warn("local schedule answered with an error", { schedule: def.id, status: res.status });
      await res.body?.cancel();
      return res.status;
    } catch (error) {
      log.warn("local schedule failed", { schedule: def.id, error: errorText(error) });
      return 0;
    } finally {
      inFlight.delete(def.id);
    }
  };

  const tick = () => {
    const at = now();
    const minute = Math.floor(at.getTime() / 60_000);
    for (const { def, matches } of matchers) {
      if (lastFired.get(def.id) === minute || inFlight.has(def.id) || !matches(at)) continue;
      lastFired.set(def.id, minute);
      void fire(def);
    }
  };
  const timer = setInterval(tick, options.tickMs ?? 15_000);
  timer.unref?.();
  return {
    stop: () => clearInterval(timer),
    fire: (id: string) => {
      const def = options.definitions.find((d) => d.id === id);
      if (!def) throw new Error(`no schedule ${id}`);
      return fire(def);
    },
  };
}
