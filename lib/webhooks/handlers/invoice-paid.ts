import { invoiceStatusHandler } from "./invoice-status";

// invoice.paid: the client paid.
export const handleInvoicePaid = invoiceStatusHandler("paid");
