export {
  createStripeClient,
  getStripe,
  resetStripeClient,
  SIMULATOR_SECRET_KEY,
  STRIPE_API_VERSION,
} from "./client";
export {
  classifyStripeError,
  StripeGatewayError,
  type ClassifiedStripeError,
  type StripeErrorKind,
} from "./errors";
export { createStripeGateway, type StripeGateway } from "./gateway";
