// Fake upstreams in their own process: a healthy OpenAI and Anthropic that stream TOKENS tokens
// with TOKEN_DELAY_MS between them (the baseline every measurement is compared against), an
// OpenAI-compatible one that never answers (a hanging primary), and one that injects faults at
// FAULT_RATE (500s, streams cut mid-way, hangs) for the soak.
import { anthropicReply, startAnthropicServer } from '../test/fakes/anthropic-server';
import { openaiChunks, openaiError, openaiReply, startOpenAIServer } from '../test/fakes/openai-server';
import type { Behaviour } from '../test/fakes/scripted-server';

const tokens = Number(process.env.TOKENS ?? 20);
const delayMs = Number(process.env.TOKEN_DELAY_MS ?? 2);
const faultRate = Number(process.env.FAULT_RATE ?? 0.05);
const words = Array.from({ length: tokens }, (_, i) => `w${i} `);

async function main(): Promise<void> {
  const openai = await startOpenAIServer();
  openai.setDefault(openaiReply({ text: words }, { delayMs }));
  const anthropic = await startAnthropicServer();
  anthropic.setDefault(anthropicReply({ blocks: [{ type: 'text', text: words }] }, { delayMs }));
  const hanging = await startOpenAIServer();
  hanging.setDefault({ kind: 'hang' });
  const faulty = await startOpenAIServer();
  const healthy = openaiReply({ text: words }, { delayMs });
  const events = openaiChunks({ text: words }, { includeUsage: true });
  faulty.setDefault((req): Behaviour => {
    const r = Math.random();
    if (r < faultRate * 0.5) return openaiError(500, 'injected fault');
    if (r < faultRate * 0.8) return { kind: 'cut', events: events.slice(0, 4), delayMs };
    if (r < faultRate) return { kind: 'hang' };
    return typeof healthy === 'function' ? healthy(req) : healthy;
  });
  // The fakes record every request; a soak of thousands would grow this process, not ours.
  const servers = [openai, anthropic, hanging, faulty];
  setInterval(() => {
    for (const s of servers) s.requests.length = 0;
  }, 1000).unref();
  process.stdout.write(
    `${JSON.stringify({ openai: openai.url, anthropic: anthropic.url, hanging: hanging.url, faulty: faulty.url })}\n`,
  );
  process.on('SIGTERM', async () => {
    await Promise.all(servers.map((s) => s.close()));
    process.exit(0);
  });
}

void main();
