"use client";

/** The browser's own print dialog (save as PDF from there): no PDF is made on the server. */
export function PrintButton() {
  return (
    <button type="button" className="secondary no-print" onClick={() => window.print()}>
      Print or save as PDF
    </button>
  );
}
