import { invoiceStatusHandler } from "./invoice-status";

// invoice.finalized: sent to the client; collectible once paid.
export const handleInvoiceFinalized = invoiceStatusHandler("open");
