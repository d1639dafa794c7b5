// Fake upstreams in their own process: a healthy OpenAI and Anthropic that stream TOKENS tokens
// with TOKEN_DELAY_MS between them (the baseline every measurement is compared against), an
// OpenAI-compatible one that never answers (a hanging primary), and one that injects faults at
// FAULT_RATE (500s, streams cut mid-way, hangs) for the soak; for image generation, one that
// calls generate_image when asked (IMAGE_TOOL_MARKER) and an OpenAI Images API answering a PNG.
import { anthropicReply, startAnthropicServer } from '../test/fakes/anthropic-server';
import { imagesAnswer, solidPng, startImageUpstream } from '../test/fakes/image-upstream';
import { openaiChunks, openaiError, openaiReply, startOpenAIServer } from '../test/fakes/openai-server';
import type { Behaviour, Responder } from '../test/fakes/scripted-server';
import { IMAGE_TOOL_MARKER } from './lib/image-tool';

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
  // The model of a voice turn that draws: a tool call when the latest user message asks for it
  // (and the tool is offered), else text; the continuation after our tool result is text.
  const tooling = await startOpenAIServer();
  const toolCall = openaiReply(
    {
      toolCalls: [
        { id: 'call_bench', name: 'generate_image', arguments: '{"prompt":"a red fox in the snow"}' },
      ],
    },
    { delayMs },
  );
  const resolve = (r: Responder, req: Parameters<Exclude<Responder, Behaviour>>[0]) =>
    typeof r === 'function' ? r(req) : r;
  tooling.setDefault((req): Behaviour => {
    const body = req.body as {
      messages?: { role: string; content: unknown }[];
      tools?: { function: { name: string } }[];
    };
    const last = body.messages?.at(-1);
    const asks =
      last?.role === 'user' &&
      JSON.stringify(last.content).includes(IMAGE_TOOL_MARKER) &&
      body.tools?.some((t) => t.function.name === 'generate_image') === true;
    return resolve(asks ? toolCall : healthy, req);
  });
  const images = await startImageUpstream();
  images.route('/v1/images/generations', imagesAnswer(await solidPng(1024, 1024)));
  // The fakes record every request; a soak of thousands would grow this process, not ours.
  const servers = [openai, anthropic, hanging, faulty, tooling];
  setInterval(() => {
    for (const s of servers) s.requests.length = 0;
    images.requests.length = 0;
  }, 1000).unref();
  process.stdout.write(
    `${JSON.stringify({ openai: openai.url, anthropic: anthropic.url, hanging: hanging.url, faulty: faulty.url, tooling: tooling.url, images: images.url })}\n`,
  );
  process.on('SIGTERM', async () => {
    await Promise.all([...servers.map((s) => s.close()), images.close()]);
    process.exit(0);
  });
}

void main();
