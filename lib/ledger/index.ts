export * from "./balances";
export * from "./errors";
export * from "./post";
export * from "./types";
