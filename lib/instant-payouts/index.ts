export * from "./execute";
export * from "./quote";
export * from "./request";
export * from "./sweep";
