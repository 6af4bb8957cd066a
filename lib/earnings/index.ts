export * from "./credit";
export * from "./disputes";
export * from "./lookup";
export * from "./refunds";
