export * from "./apply";
export * from "./ingest";
export * from "./replays";
export * from "./store";
export * from "./sweep";
export * from "./types";
export * from "./verify";
