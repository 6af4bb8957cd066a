import { z } from "zod";
import { currencyCode, uuidSchema } from "./common";

// GET /api/v1/payees/:id/statements/:year (and the CLI's --year).

export const statementCategoryValues = [
  "gross_earnings",
  "fees",
  "refunds_and_disputes",
  "adjustments",
  "reserves_held",
  "reserves_released",
  "paid_out",
] as const;

export const statementYear = z.coerce
  .number({ message: "must be a year" })
  .int("must be a year")
  .min(2000, "must be 2000 or later")
  .max(2999, "must be before 3000");

export const statementParams = z.object({ id: uuidSchema, year: statementYear });

/** Without `category`: the statement. With it: the ledger transactions behind that total (the drill-down). */
export const statementQuery = z.strictObject({
  category: z.enum(statementCategoryValues).optional(),
  currency: currencyCode.optional(),
  limit: z.coerce.number().int().min(1).max(20_000).optional(),
});
