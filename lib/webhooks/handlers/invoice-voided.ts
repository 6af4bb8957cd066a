import { invoiceStatusHandler } from "./invoice-status";

// invoice.voided: cancelled; nothing will be collected.
export const handleInvoiceVoided = invoiceStatusHandler("void");
