// `make bench`: runs the benchmarks, prints their tables and writes them into bench/README.md
// and README.md between the bench markers. Every number comes with a baseline from the same run.
import { readFileSync, writeFileSync } from 'node:fs';
import { benchBargein } from './bargein';
import { benchBundle } from './bundle';
import { benchChat } from './chat';
import { benchColdstart } from './coldstart';
import { benchImagegen } from './imagegen';
import { benchImages } from './images';
import { benchResilience } from './resilience';
import { benchSupersede } from './supersede';
import { benchTransport } from './transport';

const quick = process.argv.includes('--quick');
const only = process.argv.filter((a) => !a.startsWith('-')).slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

function replaceBetween(file: string, name: string, content: string): void {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return;
  }
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < 0) return;
  writeFileSync(file, `${text.slice(0, i + start.length)}\n${content}\n${text.slice(j)}`);
}

async function main(): Promise<void> {
  const stamp = `_Measured ${new Date().toISOString().slice(0, 10)} on ${process.platform}/${process.arch}, Node ${process.version}, ${(await import('node:os')).cpus().length} cores${quick ? ' (quick run)' : ''}._`;
  const sections: [string, string][] = [];
  if (want('chat')) {
    const { markdown } = await benchChat({ quick });
    sections.push(['chat', markdown]);
  }
  if (want('transport')) {
    const { markdown } = await benchTransport({ quick });
    sections.push(['transport', markdown]);
  }
  if (want('images')) {
    const { markdown } = await benchImages({ quick });
    sections.push(['images', markdown]);
  }
  if (want('imagegen')) {
    const { markdown } = await benchImagegen({ quick });
    sections.push(['imagegen', markdown]);
  }
  if (want('resilience')) {
    const { markdown } = await benchResilience({ quick });
    sections.push(['resilience', markdown]);
  }
  if (want('bargein')) {
    const { markdown } = await benchBargein({ quick });
    sections.push(['bargein', markdown]);
  }
  if (want('supersede')) {
    const { markdown } = await benchSupersede({ quick });
    sections.push(['supersede', markdown]);
  }
  if (want('bundle')) {
    const { markdown } = await benchBundle({ quick });
    sections.push(['bundle', markdown]);
  }
  if (want('coldstart')) {
    const { markdown } = await benchColdstart({ quick });
    sections.push(['coldstart', markdown]);
  }
  for (const [name, md] of sections) {
    process.stdout.write(`\n## ${name}\n\n${md}\n`);
    for (const file of ['bench/README.md', 'README.md']) replaceBetween(file, name, `${md}\n\n${stamp}`);
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
