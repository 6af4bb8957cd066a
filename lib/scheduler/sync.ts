import type { Client } from "@upstash/qstash";
import { qstashCron, type ScheduleDefinition } from "./schedules";

// schedules:sync: compare the definitions with what QStash holds and create or update the
// difference (dry run by default). Schedules we do not define are reported, never deleted.

export type SyncAction = {
  scheduleId: string;
  action: "create" | "update" | "unchanged";
  destination: string;
  cron: string;
  changes?: string[];
};

export type SyncPlan = { actions: SyncAction[]; unmanaged: string[] };

export async function planScheduleSync(client: Client, definitions: ScheduleDefinition[], baseUrl: string): Promise<SyncPlan> {
  const existing = await client.schedules.list();
  const byId = new Map(existing.map((s) => [s.scheduleId, s]));
  const actions = definitions.map((def): SyncAction => {
    const destination = new URL(def.path, baseUrl).toString();
    const cron = qstashCron(def);
    const current = byId.get(def.id);
    if (!current) return { scheduleId: def.id, action: "create", destination, cron };
    const changes: string[] = [];
    if (current.destination !== destination) changes.push(`destination ${current.destination} -> ${destination}`);
    if (current.cron !== cron) changes.push(`cron ${current.cron} -> ${cron}`);
    if ((current.body ?? "") !== JSON.stringify(def.body)) changes.push("body");
    if (current.retries !== def.retries) changes.push(`retries ${current.retries} -> ${def.retries}`);
    if ((current.flowControlKey ?? undefined) !== def.flowControlKey) changes.push("flow control");
    return { scheduleId: def.id, action: changes.length ? "update" : "unchanged", destination, cron, changes };
  });
  const defined = new Set(definitions.map((d) => d.id));
  return { actions, unmanaged: existing.map((s) => s.scheduleId).filter((id) => !defined.has(id)) };
}

/** Create or update (QStash's create with a scheduleId overwrites) every schedule that differs. */
export async function applyScheduleSync(client: Client, definitions: ScheduleDefinition[], plan: SyncPlan): Promise<number> {
  let written = 0;
  for (const action of plan.actions) {
    if (action.action === "unchanged") continue;
    const def = definitions.find((d) => d.id === action.scheduleId)!;
    await client.schedules.create({
      scheduleId: def.id,
      destination: action.destination,
      cron: action.cron,
      body: JSON.stringify(def.body),
      headers: { "content-type": "application/json" },
      method: "POST",
      retries: def.retries,
      flowControl: { key: def.flowControlKey, parallelism: 1 },
      label: "payrun",
    });
    written++;
  }
  return written;
}
