const TONE: Record<string, "ok" | "warn" | "bad" | ""> = {
  paid: "ok",
  completed: "ok",
  processed: "ok",
  released: "ok",
  active: "warn",
  in_transit: "warn",
  processing: "warn",
  planned: "",
  planning: "warn",
  executing: "warn",
  pending: "warn",
  received: "",
  skipped: "",
  awaiting_approval: "warn",
  open: "warn",
  confirmed: "bad",
  cleared: "ok",
  resolved: "",
  rejected: "",
  expired_unapproved: "",
  ignored: "",
  cancelled: "",
  failed: "bad",
  completed_with_failures: "bad",
  conflict: "bad",
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge ${TONE[status] ?? ""}`}>{status.replaceAll("_", " ")}</span>;
}
