// The chat bundle's size and its cold import time in fresh node processes, against an empty
// module imported the same way in the same run; and the same for the chat entry with Powertools
// Logger, Metrics and Parameters (getSecret) added, together and one at a time, set up at cold
// start as adopting them would. All imports are interleaved, so a noisy moment on a shared
// machine hits every variant alike.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { bundleFunction } from '../scripts/build';
import { median, ms, ratio, table } from './lib/stats';

const PROBE = `
globalThis.awslambda = { streamifyResponse: (f) => f, HttpResponseStream: { from: (s) => s } };
const t0 = performance.now();
const c0 = process.cpuUsage();
const mod = await import(process.argv[1]);
const imported = performance.now() - t0;
const c = process.cpuUsage(c0);
console.log(JSON.stringify({ imported, cpu: (c.user + c.system) / 1000 }));
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

type Probe = { wall: number; cpu: number };

/**
 * Milliseconds one fresh node process takes to import `file`: wall clock, and CPU time (user +
 * system), which other processes on a busy machine disturb far less.
 */
function importOnce(file: string, env: Record<string, string>): Probe {
  const stdout = execFileSync(process.execPath, ['--input-type=module', '-e', PROBE, resolve(file)], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const line = stdout
    .trim()
    .split('\n')
    .find((l) => l.includes('"imported"'))!;
  const probe = JSON.parse(line) as { imported: number; cpu: number };
  return { wall: probe.imported, cpu: probe.cpu };
}

/** Import times of each file, `runs` rounds, one import of each file per round. */
function interleavedImportTimes(files: string[], runs: number, env: Record<string, string>): Probe[][] {
  const out = files.map(() => [] as Probe[]);
  for (let i = 0; i < runs; i++) {
    for (const [k, file] of files.entries()) out[k]!.push(importOnce(file, env));
  }
  return out;
}

/** What adopting each Powertools package would load and set up at cold start. */
const POWERTOOLS = {
  Logger: {
    imports: "import { Logger } from '@aws-lambda-powertools/logger';",
    setup: "new Logger({ serviceName: 'chat', logLevel: 'ERROR' })",
  },
  Metrics: {
    imports: "import { Metrics } from '@aws-lambda-powertools/metrics';",
    setup: "new Metrics({ namespace: 'ElevenLabsVision', serviceName: 'chat' })",
  },
  Parameters: {
    imports: "import { getSecret } from '@aws-lambda-powertools/parameters/secrets';",
    setup: 'getSecret',
  },
} as const;

type PowertoolsPart = keyof typeof POWERTOOLS;

/** The chat entry plus the given Powertools packages, written as a TypeScript entry to bundle. */
function powertoolsEntry(parts: readonly PowertoolsPart[], dir: string): string {
  const file = join(dir, `${parts.join('-')}.ts`);
  writeFileSync(
    file,
    [
      ...parts.map((p) => POWERTOOLS[p].imports),
      "import * as chat from '../../functions/chat/handler';",
      // Exported, so the bundler cannot drop what a real adoption would load.
      `export const powertools = [${parts.map((p) => POWERTOOLS[p].setup).join(', ')}];`,
      'export const handler = chat.handler;',
      'export const ready = chat.ready;',
      '',
    ].join('\n'),
  );
  return file;
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
  const variants: { name: string; parts: PowertoolsPart[] }[] = [
    { name: 'Logger + Metrics + Parameters', parts: ['Logger', 'Metrics', 'Parameters'] },
    { name: 'Logger', parts: ['Logger'] },
    { name: 'Metrics', parts: ['Metrics'] },
    { name: 'Parameters (getSecret)', parts: ['Parameters'] },
  ];
  rmSync('.build/bench-powertools', { recursive: true, force: true });
  mkdirSync('.build/bench-powertools', { recursive: true });
  const variantEntries: string[] = [];
  for (const v of variants) {
    const out = `.build/bench-powertools/${v.parts.join('-')}`;
    variantEntries.push(
      await bundleFunction('chat', out, powertoolsEntry(v.parts, '.build/bench-powertools')),
    );
  }
  writeFileSync('.build/bench-empty.mjs', 'export {};\n');
  const runs = Number(process.env.BENCH_BUNDLE_RUNS) || (opts.quick ? 7 : 15);
  const env = { LOG_LEVEL: 'error' };
  const [chatRuns, emptyRuns, ...variantRuns] = interleavedImportTimes(
    [entry, '.build/bench-empty.mjs', ...variantEntries],
    runs,
    env,
  ) as [Probe[], Probe[], ...Probe[][]];
  const chat = chatRuns.map((r) => r.wall);
  const empty = emptyRuns.map((r) => r.wall);
  const size = sizeOf('.build/bench-chat');
  const entryBytes = statSync(entry).size;
  const atColdStart = staticClosureBytes(entry);
  const kib = (n: number) => (n / 1024).toFixed(0);
  const powertoolsRows = variants.map((v, i) => {
    const closure = staticClosureBytes(variantEntries[i]!);
    const probes = variantRuns[i]!;
    // Paired by round: the variant and the plain entry were imported in the same round, so a
    // busy moment on the machine shows in both and cancels in their difference.
    const added = (k: keyof Probe) => median(probes.map((p, round) => p[k] - chatRuns[round]![k]));
    const of = (k: keyof Probe) => median(probes.map((p) => p[k]));
    const base = (k: keyof Probe) => median(chatRuns.map((p) => p[k]));
    return [
      `+ Powertools ${v.name}`,
      `+${kib(closure.bytes - atColdStart.bytes)} KiB at cold start; import +${ms(added('wall'))} ms wall (${ratio(of('wall'), base('wall'))} of chat), +${ms(added('cpu'))} ms CPU (${ratio(of('cpu'), base('cpu'))}); medians of paired differences`,
    ];
  });
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
      ...powertoolsRows,
    ],
  );
  return { markdown, importMs: median(chat), entryBytes };
}
