import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { stringify } from "csv-stringify";
import type { Db } from "../../db/client";
import { allStatements, CSV_COLUMNS, csvRecords } from "./annual";

/** A cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is quoted as text. */
export function spreadsheetSafe(value: string | number): string | number {
  return typeof value === "string" && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/**
 * Every payee's statement for `year` as CSV (RFC 4180, csv-stringify) into `out`, streamed: payees
 * are read a batch at a time and each record is written as the stream asks for more, so memory stays
 * at one batch however many payees there are. Read-only. Returns the number of payees and rows.
 */
export async function exportStatementsCsv(
  db: Db,
  input: {
    year: number;
    timeZone: string;
    out: Writable;
    batchSize?: number;
    onProgress?: (payees: number, rows: number) => void;
  },
): Promise<{ payees: number; rows: number }> {
  const counts = { payees: 0, rows: 0 };
  async function* records() {
    for await (const statement of allStatements(db, input)) {
      counts.payees++;
      for (const record of csvRecords(statement)) {
        counts.rows++;
        yield record.map(spreadsheetSafe);
      }
      input.onProgress?.(counts.payees, counts.rows);
    }
  }
  await pipeline(Readable.from(records()), stringify({ header: true, columns: [...CSV_COLUMNS] }), input.out);
  return counts;
}
