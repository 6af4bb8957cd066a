import { invoiceStatusHandler } from "./invoice-status";

// invoice.payment_failed: the client's payment failed.
export const handleInvoicePaymentFailed = invoiceStatusHandler("payment_failed");
