// The layering of the browser API's folders in shared/: storage and sessions at the bottom, auth
// and uploads on them, the routes (browser-api/) on top, with no folder importing one above it;
// and nothing in shared/ reaches up into functions/ or infra/, where the composition roots live.
// Read from the import statements of the sources.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const SHARED = join(ROOT, 'shared');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Relative import targets of a file (type-only imports included: they couple folders too). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) =>
    resolve(dirname(file), m[1]!),
  );
}

/** The shared/ folder a path is in ('.' for files directly under shared/). */
const folderOf = (path: string) => {
  const rel = relative(SHARED, path);
  return rel.includes('/') ? rel.split('/')[0]! : '.';
};

function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sources(SHARED)) {
    const from = folderOf(file);
    for (const target of importsOf(file)) {
      if (relative(SHARED, target).startsWith('..')) continue;
      const to = folderOf(target);
      if (to === from || to === '.' || from === '.') continue;
      if (!graph.has(from)) graph.set(from, new Set());
      graph.get(from)!.add(to);
    }
  }
  return graph;
}

/** Every cycle, as a path that comes back to its first folder (each reported once). */
function cycles(graph: Map<string, Set<string>>): string[] {
  const found = new Set<string>();
  const walk = (start: string, at: string, path: string[]) => {
    for (const next of graph.get(at) ?? []) {
      if (next === start) {
        const min = [...path].sort()[0]!;
        const i = path.indexOf(min);
        found.add([...path.slice(i), ...path.slice(0, i), min].join(' -> '));
      } else if (!path.includes(next)) walk(start, next, [...path, next]);
    }
  };
  for (const start of graph.keys()) walk(start, start, [start]);
  return [...found].sort();
}

/** The folders behind the two browser functions (the chat side has its own layering). */
const BROWSER_FOLDERS = new Set(['storage', 'sessions', 'auth', 'uploads', 'browser-api']);

test('the browser API folders of shared/ import each other without cycles (no sessions <-> auth)', () => {
  const graph = new Map(
    [...folderGraph()]
      .filter(([from]) => BROWSER_FOLDERS.has(from))
      .map(([from, to]) => [from, new Set([...to].filter((t) => BROWSER_FOLDERS.has(t)))]),
  );
  expect(cycles(graph)).toEqual([]);
});

test('nothing in shared/ imports from functions/ or infra/', () => {
  const upward = sources(SHARED).flatMap((file) =>
    importsOf(file)
      .filter((t) => /^(functions|infra)\//.test(relative(ROOT, t)))
      .map((t) => `${relative(ROOT, file)} -> ${relative(ROOT, t)}`),
  );
  expect(upward).toEqual([]);
});
