export * from "./events";
export * from "./ledger";
export * from "./payees";
export * from "./payouts";
export * from "./placements";
export * from "./scheduler";
export * from "./reconciliation";
export * from "./bank-accounts";
