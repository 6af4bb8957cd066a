export * from "./onboarding";
export * from "./state";
export * from "./bank-accounts";
