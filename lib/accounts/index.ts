export * from "./onboarding";
export * from "./state";
