// `npm run check:tests [-- files...]`: a test that returns early passes without checking anything
// (`if (!process.env.X) return;` counts as passed), so the "nothing skipped" promise would not hold.
// Refuses a `return` in the body of a test (`it`, `test`, and their `.each`/`.concurrent`/... forms)
// unless it is the body's last statement: that return ends the test however it got there. Returns in
// functions nested inside the test are their own business. `npm test` runs this before vitest.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

export type EarlyReturn = { file: string; line: number; test: string };

const TEST_CALLS = new Set(["it", "test"]);

/** `it(...)`, `test.concurrent(...)`, `it.each(rows)(...)`: the name at the root of the callee. */
function testCallee(expr: ts.Expression): boolean {
  let e: ts.Expression = expr;
  for (;;) {
    if (ts.isIdentifier(e)) return TEST_CALLS.has(e.text);
    if (ts.isPropertyAccessExpression(e)) e = e.expression;
    else if (ts.isCallExpression(e)) e = e.expression;
    else return false;
  }
}

const isFunction = (n: ts.Node): n is ts.FunctionLikeDeclaration =>
  ts.isArrowFunction(n) ||
  ts.isFunctionExpression(n) ||
  ts.isFunctionDeclaration(n) ||
  ts.isMethodDeclaration(n);

/** Returns in `fn`'s own body (not in nested functions), except its last statement. */
function earlyReturns(fn: ts.FunctionLikeDeclaration): ts.ReturnStatement[] {
  const body = fn.body;
  if (!body || !ts.isBlock(body)) return [];
  const last = body.statements.at(-1);
  const found: ts.ReturnStatement[] = [];
  const visit = (n: ts.Node) => {
    if (isFunction(n) || ts.isClassLike(n)) return;
    if (ts.isReturnStatement(n) && n !== last) found.push(n);
    ts.forEachChild(n, visit);
  };
  for (const s of body.statements) visit(s);
  return found;
}

export function scanSource(file: string, text: string): EarlyReturn[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: EarlyReturn[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isCallExpression(n) && testCallee(n.expression)) {
      const name =
        n.arguments[0] && ts.isStringLiteralLike(n.arguments[0]) ? n.arguments[0].text : "(unnamed)";
      for (const arg of n.arguments) {
        if (!isFunction(arg)) continue;
        for (const r of earlyReturns(arg)) {
          out.push({ file, line: source.getLineAndCharacterOfPosition(r.getStart()).line + 1, test: name });
        }
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(source);
  return out;
}

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(full));
    else if (/\.test\.tsx?$/.test(entry.name)) out.push(full);
  }
  return out;
}

/** Every early return in the given test files (default: every *.test.ts under tests/). */
export function checkTests(files: string[] = testFiles("tests")): EarlyReturn[] {
  return files.flatMap((f) => scanSource(f, readFileSync(f, "utf8")));
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const args = process.argv.slice(2);
  const found = checkTests(args.length ? args : undefined);
  for (const r of found)
    console.error(
      `${r.file}:${r.line}: test "${r.test}" returns early: it would pass without checking anything`,
    );
  if (found.length) {
    console.error(
      `${found.length} early return(s) in test bodies: assert instead (a test that cannot run must fail, not pass)`,
    );
    process.exit(1);
  }
  console.log("no early returns in test bodies");
}
