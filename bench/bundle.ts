// The chat bundle's size and its cold import time in fresh node processes, against an empty
// module imported the same way in the same run.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { bundleFunction } from '../scripts/build';
import { median, ms, ratio, table } from './lib/stats';

const PROBE = `
globalThis.awslambda = { streamifyResponse: (f) => f, HttpResponseStream: { from: (s) => s } };
const t0 = performance.now();
const mod = await import(process.argv[1]);
const imported = performance.now() - t0;
console.log(JSON.stringify({ imported }));
`;

function sizeOf(dir: string): { raw: number; gz: number; files: number } {
  let raw = 0;
  let gz = 0;
  let files = 0;
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.mjs')) {
        raw += statSync(p).size;
        gz += gzipSync(readFileSync(p)).length;
        files++;
      }
    }
  };
  walk(dir);
  return { raw, gz, files };
}

function importTimes(file: string, runs: number, env: Record<string, string>): number[] {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', PROBE, resolve(file)], {
      env: { PATH: process.env.PATH ?? '', ...env },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const line = stdout
      .trim()
      .split('\n')
      .find((l) => l.includes('"imported"'))!;
    out.push((JSON.parse(line) as { imported: number }).imported);
  }
  return out;
}

/**
 * Bytes parsed at cold start: the entry module and every chunk it imports statically (chunks
 * reached only through `import()` load when a configuration uses them).
 */
function staticClosureBytes(entry: string): { bytes: number; files: number } {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const code = readFileSync(file, 'utf8');
    for (const m of code.matchAll(/(?:from|import)\s*"(\.{1,2}\/[^"]+\.mjs)"/g))
      visit(resolve(dirname(file), m[1]!));
  };
  visit(resolve(entry));
  let bytes = 0;
  for (const f of seen) bytes += statSync(f).size;
  return { bytes, files: seen.size };
}

export async function benchBundle(opts: {
  quick: boolean;
}): Promise<{ markdown: string; importMs: number; entryBytes: number }> {
  // esbuild does not empty its output folder: chunks of earlier builds would be counted too.
  rmSync('.build/bench-chat', { recursive: true, force: true });
  const entry = await bundleFunction('chat', '.build/bench-chat');
  writeFileSync('.build/bench-empty.mjs', 'export {};\n');
  const runs = opts.quick ? 7 : 15;
  const env = { LOG_LEVEL: 'error' };
  const chat = importTimes(entry, runs, env);
  const empty = importTimes('.build/bench-empty.mjs', runs, env);
  const size = sizeOf('.build/bench-chat');
  const entryBytes = statSync(entry).size;
  const atColdStart = staticClosureBytes(entry);
  const markdown = table(
    ['measure', 'value'],
    [
      [
        'loaded at cold start (entry + statically imported chunks)',
        `${(atColdStart.bytes / 1024).toFixed(0)} KiB in ${atColdStart.files} files`,
      ],
      [
        'chat bundle incl. lazy chunks',
        `${(size.raw / 1024).toFixed(0)} KiB in ${size.files} files, ${(size.gz / 1024).toFixed(0)} KiB gzipped`,
      ],
      [`cold import, median of ${runs} fresh processes`, `${ms(median(chat))} ms`],
      ['empty module, same way (baseline)', `${ms(median(empty))} ms`],
      ['chat import / baseline', ratio(median(chat), median(empty))],
    ],
  );
  return { markdown, importMs: median(chat), entryBytes };
}
