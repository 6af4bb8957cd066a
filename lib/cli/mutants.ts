// `npm run test:mutants [-- --only <id>[,<id>...]] [--list] [--no-baseline] [--keep]`: the mutation
// drill of the money path. Each curated break (tests/mutants/list.ts) is applied, one at a time, to a
// scratch copy of the tree (a temp dir with node_modules symlinked; the worktree is never touched),
// then the tests mapped to it run there. A mutant is killed when at least one of those tests fails;
// it survives when they all pass. A break whose text is not found (exactly once) is an error, never a
// pass, and so is a run that failed without a failing test (a crash, a load error). Exits 1 if any
// mutant survived or errored. Runs one vitest at a time: the machine is shared.
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { type Edit, MUTANTS, type Mutant, type TestGroup } from "../../tests/mutants/list";

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    list: { type: "boolean", default: false },
    "no-baseline": { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
  },
});

const ROOT = process.cwd();
/** Not copied: dependencies (symlinked instead), git, build output and scratch data. */
const SKIP = new Set(["node_modules", ".git", ".next", ".data", "coverage", "test-results"]);

export type Verdict = {
  id: string;
  outcome: "killed" | "survived" | "error";
  seconds: number;
  detail: string;
};

function selected(): Mutant[] {
  const ids = new Set(MUTANTS.map((m) => m.id));
  if (ids.size !== MUTANTS.length) throw new Error("tests/mutants/list.ts: mutant ids must be unique");
  if (!values.only) return MUTANTS;
  const wanted = values.only.split(",").map((s) => s.trim());
  const unknown = wanted.filter((id) => !ids.has(id));
  if (unknown.length) throw new Error(`unknown mutant id(s): ${unknown.join(", ")} (see --list)`);
  return MUTANTS.filter((m) => wanted.includes(m.id));
}

const describeGroups = (groups: TestGroup[]) =>
  groups.map((g) => `${g.project}: ${g.files.join(" ")}`).join("; ");

/** Occurrences of `find` in `text` (non-overlapping). */
const occurrences = (text: string, find: string) => (find.length === 0 ? 0 : text.split(find).length - 1);

const editsOf = (m: Mutant): Edit[] => [
  { file: m.file, find: m.find, replace: m.replace },
  ...(m.more ?? []),
];

/** The mutated text of a file, or why the edit cannot be applied. */
export function applyEdit(text: string, e: Edit): { ok: true; text: string } | { ok: false; reason: string } {
  const n = occurrences(text, e.find);
  if (n !== 1)
    return { ok: false, reason: `text to break found ${n} times in ${e.file} (must be exactly once)` };
  if (e.find === e.replace) return { ok: false, reason: "the break changes nothing" };
  return { ok: true, text: text.replace(e.find, () => e.replace) };
}

/** Apply every edit of a mutant under `dir`; returns how to undo them, or why it cannot apply (nothing changed then). */
function applyMutant(dir: string, m: Mutant): { ok: true; undo: () => void } | { ok: false; reason: string } {
  const writes: { file: string; original: string; text: string }[] = [];
  for (const e of editsOf(m)) {
    const file = path.join(dir, e.file);
    if (!existsSync(file)) return { ok: false, reason: `${e.file} does not exist` };
    const original = writes.find((w) => w.file === file)?.text ?? readFileSync(file, "utf8");
    const applied = applyEdit(original, e);
    if (!applied.ok) return applied;
    const earlier = writes.find((w) => w.file === file);
    if (earlier) earlier.text = applied.text;
    else writes.push({ file, original, text: applied.text });
  }
  for (const w of writes) writeFileSync(w.file, w.text);
  return {
    ok: true,
    undo: () => {
      for (const w of writes) writeFileSync(w.file, w.original);
    },
  };
}

/** Whether a mutant would apply under `dir`, without changing anything. */
function checkMutant(dir: string, m: Mutant): string | null {
  const texts = new Map<string, string>();
  for (const e of editsOf(m)) {
    const file = path.join(dir, e.file);
    if (!existsSync(file)) return `${e.file} does not exist`;
    const applied = applyEdit(texts.get(file) ?? readFileSync(file, "utf8"), e);
    if (!applied.ok) return applied.reason;
    texts.set(file, applied.text);
  }
  return null;
}

type VitestJson = {
  numFailedTests: number;
  numPassedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: {
    name: string;
    assertionResults: { fullName: string; status: string; failureMessages: string[] }[];
  }[];
};

/** Run one project's files in the scratch tree; what failed, if anything. */
function runGroup(
  dir: string,
  group: TestGroup,
  tag: string,
): { status: number; failed: string[]; passed: number; pending: number; crashed: boolean } {
  const report = path.join(dir, ".data", `mutant-${tag}.json`);
  rmSync(report, { force: true });
  const result = spawnSync(
    path.join(dir, "node_modules", ".bin", "vitest"),
    ["run", "--project", group.project, "--reporter=json", `--outputFile.json=${report}`, ...group.files],
    {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", FORCE_COLOR: "0" },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (!existsSync(report))
    return { status: result.status ?? 1, failed: [], passed: 0, pending: 0, crashed: true };
  const json = JSON.parse(readFileSync(report, "utf8")) as VitestJson;
  const failed = json.testResults.flatMap((f) =>
    f.assertionResults
      .filter((a) => a.status === "failed")
      .map(
        (a) =>
          `${path.relative(dir, f.name)} > ${a.fullName}: ${(a.failureMessages[0] ?? "").split("\n")[0]!.slice(0, 160)}`,
      ),
  );
  return {
    status: result.status ?? 1,
    failed,
    passed: json.numPassedTests,
    pending: json.numPendingTests + json.numTodoTests,
    crashed: false,
  };
}

function main() {
  const mutants = selected();
  if (values.list) {
    for (const m of mutants)
      console.log(
        `${m.id.padEnd(34)} ${m.file}\n${"".padEnd(34)} ${m.why}\n${"".padEnd(34)} ${describeGroups(m.tests)}`,
      );
    console.log(`${mutants.length} mutants`);
    return 0;
  }
  const started = Date.now();

  // Every break must apply to the tree as it is, before anything runs.
  const broken = mutants.map((m) => ({ m, reason: checkMutant(ROOT, m) })).filter((x) => x.reason !== null);
  for (const { m, reason } of broken) console.error(`ERROR ${m.id}: ${reason}`);
  if (broken.length) {
    console.error(`${broken.length} mutant(s) do not apply: fix tests/mutants/list.ts`);
    return 1;
  }

  const dir = mkdtempSync(path.join(os.tmpdir(), "payrun-mutants-"));
  cpSync(ROOT, dir, {
    recursive: true,
    filter: (src) => !SKIP.has(path.basename(src)) || path.dirname(src) !== ROOT,
  });
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  mkdirSync(path.join(dir, ".data"), { recursive: true });
  console.log(`scratch tree: ${dir}`);
  const verdicts: Verdict[] = [];
  try {
    if (!values["no-baseline"]) {
      // The mapped tests must pass on the unbroken tree, or every kill below would mean nothing.
      const byProject = new Map<TestGroup["project"], Set<string>>();
      for (const m of mutants)
        for (const g of m.tests)
          for (const f of g.files)
            (byProject.get(g.project) ?? byProject.set(g.project, new Set()).get(g.project)!).add(f);
      for (const [project, files] of byProject) {
        const t0 = Date.now();
        const r = runGroup(dir, { project, files: [...files] }, "baseline");
        console.log(
          `baseline ${project}: ${r.passed} passed, ${r.failed.length} failed, ${r.pending} skipped (${((Date.now() - t0) / 1000).toFixed(1)}s)`,
        );
        if (r.status !== 0 || r.crashed || r.failed.length > 0 || r.pending > 0) {
          for (const f of r.failed) console.error(`  ${f}`);
          console.error("the mapped tests do not pass on the unbroken tree: no mutant can be judged");
          return 1;
        }
      }
    }

    for (const [i, m] of mutants.entries()) {
      const t0 = Date.now();
      const applied = applyMutant(dir, m);
      if (!applied.ok) {
        verdicts.push({ id: m.id, outcome: "error", seconds: 0, detail: applied.reason });
        continue;
      }
      let verdict: Verdict;
      try {
        const failed: string[] = [];
        let crashed = "";
        for (const group of m.tests) {
          const r = runGroup(dir, group, m.id);
          failed.push(...r.failed);
          if (r.crashed || (r.status !== 0 && r.failed.length === 0))
            crashed = `${group.project} run exited ${r.status} without a failing test`;
          if (failed.length > 0) break; // killed: the remaining groups need not run
        }
        const seconds = (Date.now() - t0) / 1000;
        verdict =
          failed.length > 0
            ? { id: m.id, outcome: "killed", seconds, detail: failed[0]! }
            : crashed
              ? { id: m.id, outcome: "error", seconds, detail: crashed }
              : { id: m.id, outcome: "survived", seconds, detail: `all passed: ${describeGroups(m.tests)}` };
      } finally {
        applied.undo();
      }
      verdicts.push(verdict);
      const mark =
        verdict.outcome === "killed" ? "killed  " : verdict.outcome === "survived" ? "SURVIVED" : "ERROR   ";
      console.log(
        `[${i + 1}/${mutants.length}] ${mark} ${m.id} (${verdict.seconds.toFixed(1)}s)\n           ${verdict.detail}`,
      );
    }
  } finally {
    if (values.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }

  const count = (o: Verdict["outcome"]) => verdicts.filter((v) => v.outcome === o).length;
  const total = ((Date.now() - started) / 1000).toFixed(0);
  console.log(
    `\n${count("killed")} killed, ${count("survived")} survived, ${count("error")} errors of ${mutants.length} mutants in ${total}s`,
  );
  for (const v of verdicts.filter((x) => x.outcome !== "killed"))
    console.log(`  ${v.outcome}: ${v.id}: ${v.detail}`);
  return count("killed") === mutants.length ? 0 : 1;
}

process.exit(main());
