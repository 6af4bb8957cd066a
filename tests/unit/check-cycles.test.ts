import path from "node:path";
import { describe, expect, it } from "vitest";
import { cycles, moduleOf } from "../../lib/cli/check-cycles";

describe("npm run check:cycles", () => {
  it("groups files into modules: a folder under lib/, a file in lib/, db/ and app/", () => {
    expect(moduleOf(path.join("lib", "payouts", "run.ts"))).toBe("lib/payouts");
    expect(moduleOf(path.join("lib", "env.ts"))).toBe("lib/env");
    expect(moduleOf(path.join("db", "schema", "payees.ts"))).toBe("db");
    expect(moduleOf(path.join("app", "ops", "actions.ts"))).toBe("app");
  });

  it("finds every module on a loop, and nothing on a chain", () => {
    const graph = new Map<string, Set<string>>([
      ["lib/api", new Set(["lib/auth"])],
      ["lib/auth", new Set(["lib/demo"])],
      ["lib/demo", new Set(["lib/accounts"])],
      ["lib/accounts", new Set(["lib/api", "lib/errors"])],
      ["lib/errors", new Set()],
      ["app", new Set(["lib/api"])],
    ]);
    expect(cycles(graph)).toEqual([["lib/accounts", "lib/api", "lib/auth", "lib/demo"]]);
    graph.get("lib/accounts")!.delete("lib/api");
    expect(cycles(graph)).toEqual([]);
  });
});
