// `npm run check:cycles`: import cycles between modules, where a module is a folder under lib/
// (lib/payouts, lib/api, ...), a file directly in lib/ (lib/env.ts), db/ or app/. File-level tools
// (madge) miss the cycles that matter here: lib/api/errors.ts imports nothing, yet a domain that
// imports it and lib/api that imports the domain back tie both folders into one knot. Every import
// counts, `import type` too: a type still couples the two modules. Exits 1 and names each cycle.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

const ROOT = process.cwd();
const SOURCE_DIRS = ["lib", "db", "app"];
const EXTENSIONS = [".ts", ".tsx"];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (EXTENSIONS.some((e) => entry.name.endsWith(e)) && !entry.name.endsWith(".d.ts")) out.push(full);
  }
  return out;
}

/** The module a file belongs to: lib/<folder>, lib/<file>, or the top-level folder. */
export function moduleOf(relativePath: string): string {
  const parts = relativePath.split(path.sep);
  if (parts[0] !== "lib") return parts[0]!;
  if (parts.length === 2) return `lib/${parts[1]!.replace(/\.tsx?$/, "")}`;
  return `lib/${parts[1]}`;
}

function resolveImport(fromFile: string, specifier: string): string | null {
  let base: string;
  if (specifier.startsWith("@/")) base = path.join(ROOT, specifier.slice(2));
  else if (specifier.startsWith(".")) base = path.resolve(path.dirname(fromFile), specifier);
  else return null; // a package
  for (const candidate of [base, ...EXTENSIONS.map((e) => base + e), ...EXTENSIONS.map((e) => path.join(base, `index${e}`))]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

/** Module → the modules it imports from (itself excluded). */
export function moduleGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const dir of SOURCE_DIRS) {
    for (const file of sourceFiles(path.join(ROOT, dir))) {
      const from = moduleOf(path.relative(ROOT, file));
      const edges = graph.get(from) ?? new Set<string>();
      graph.set(from, edges);
      const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
      for (const { fileName } of importedFiles) {
        const target = resolveImport(file, fileName);
        if (!target) continue;
        const to = moduleOf(path.relative(ROOT, target));
        if (to !== from) edges.add(to);
      }
    }
  }
  return graph;
}

/** Strongly connected components with more than one module (Tarjan). */
export function cycles(graph: Map<string, Set<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** One import path around a component, for the message: a → b → ... → a. */
function loopThrough(graph: Map<string, Set<string>>, component: string[]): string[] {
  const members = new Set(component);
  const start = component[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  const seen = new Set([start]);
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const loop = [start];
        for (let at = v; at !== start; at = previous.get(at)!) loop.splice(1, 0, at);
        return [...loop, start];
      }
      if (!seen.has(w)) {
        seen.add(w);
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return component;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const graph = moduleGraph();
  const found = cycles(graph);
  if (found.length === 0) {
    console.log(`no import cycles between the ${graph.size} modules of ${SOURCE_DIRS.join(", ")}`);
  } else {
    for (const component of found) {
      console.log(`cycle of ${component.length} modules: ${component.join(", ")}`);
      console.log(`  e.g. ${loopThrough(graph, component).join(" -> ")}`);
    }
    process.exitCode = 1;
  }
}
