import { describe, expect, it } from "vitest";
import { CursorError } from "../../db/paging";
import { errorStatus, fromDomainError } from "../../lib/api/errors";
import { DomainError, domainErrorCodes } from "../../lib/errors";
import { LedgerError } from "../../lib/ledger/errors";

describe("domain errors at the API edge", () => {
  it("every domain code has an API code, and so a status", () => {
    for (const code of domainErrorCodes) {
      const answer = fromDomainError(new DomainError(code, "x"));
      expect(errorStatus[answer.code], code).toBeGreaterThanOrEqual(400);
      expect(answer.status, code).toBeLessThan(500);
    }
  });

  it("maps the usual ones as the API always answered them", () => {
    expect(fromDomainError(new DomainError("not_found", "payee not found"))).toMatchObject({ status: 404, code: "not_found" });
    expect(fromDomainError(new DomainError("invalid_input", "payeeId: no such payee"))).toMatchObject({
      status: 422,
      code: "validation_failed",
    });
    expect(fromDomainError(new CursorError())).toMatchObject({ status: 400, code: "bad_request" });
  });

  it("a ledger refusal is a 409 that keeps the ledger's own code", () => {
    const refused = new LedgerError("insufficient_balance", "would overdraw", { accountId: "a" });
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused.code).toBe("insufficient_balance");
    expect(fromDomainError(refused)).toMatchObject({
      status: 409,
      code: "conflict",
      details: { ledger: "insufficient_balance", accountId: "a" },
    });
  });
});
