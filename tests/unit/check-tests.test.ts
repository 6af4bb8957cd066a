import { describe, expect, it } from "vitest";
import { scanSource } from "../../lib/cli/check-tests";

describe("check-tests: early returns in test bodies", () => {
  it("finds a conditional early return, in it, test and their variants", () => {
    const source = `
      it("needs a key", async () => {
        if (!process.env.KEY) return;
        expect(1).toBe(1);
      });
      test.concurrent("loops out", () => {
        for (const x of [1, 2]) { if (x) return; }
        expect(1).toBe(1);
      });
      it.each([1])("each %s", function (n) {
        if (n) { return; }
        expect(n).toBe(1);
      });`;
    expect(scanSource("x.test.ts", source).map((r) => [r.line, r.test])).toEqual([
      [3, "needs a key"],
      [7, "loops out"],
      [11, "each %s"],
    ]);
  });

  it("allows the body's last return and returns in nested functions and hooks", () => {
    const source = `
      beforeAll(() => { if (!process.env.X) return; });
      it("returns its promise", () => {
        const find = (xs: number[]) => { for (const x of xs) if (x) return x; return 0; };
        return expect(Promise.resolve(find([1]))).resolves.toBe(1);
      });`;
    expect(scanSource("y.test.ts", source)).toEqual([]);
  });
});
