export * from "./cron";
export * from "./dispatch";
export * from "./local";
export * from "./schedules";
export * from "./local-pump";
