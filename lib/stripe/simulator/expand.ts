import type { SimulatorState } from "./state";
import { isRecord } from "./types";

function expandPath(state: SimulatorState, node: Record<string, unknown>, segments: string[]): void {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  if (head === "data" && node.object === "list" && Array.isArray(node.data)) {
    for (const item of node.data) if (isRecord(item)) expandPath(state, item, rest);
    return;
  }
  const value = node[head];
  if (typeof value === "string") {
    const target = state.lookup(value);
    if (target) node[head] = JSON.parse(JSON.stringify(target.object));
  } else if (Array.isArray(value)) {
    node[head] = value.map((item) =>
      typeof item === "string" ? (state.lookup(item)?.object ?? item) : item,
    );
  }
  const expanded = node[head];
  if (rest.length > 0 && isRecord(expanded)) expandPath(state, expanded, rest);
}

/** Applies `expand[]` paths (e.g. "latest_charge.balance_transaction", "data.destination") to a copy of the body. */
export function expandBody(state: SimulatorState, body: unknown, paths: string[]): unknown {
  if (paths.length === 0 || !isRecord(body)) return body;
  const copy: Record<string, unknown> = JSON.parse(JSON.stringify(body));
  for (const path of paths) expandPath(state, copy, path.split("."));
  return copy;
}
