// A fake OpenAI and a fake Anthropic upstream in their own process, streaming TOKENS tokens with
// TOKEN_DELAY_MS between them: the baseline every measurement is compared against.
import { anthropicReply, startAnthropicServer } from '../test/fakes/anthropic-server';
import { openaiReply, startOpenAIServer } from '../test/fakes/openai-server';

const tokens = Number(process.env.TOKENS ?? 20);
const delayMs = Number(process.env.TOKEN_DELAY_MS ?? 2);
const words = Array.from({ length: tokens }, (_, i) => `w${i} `);

async function main(): Promise<void> {
  const openai = await startOpenAIServer();
  openai.setDefault(openaiReply({ text: words }, { delayMs }));
  const anthropic = await startAnthropicServer();
  anthropic.setDefault(anthropicReply({ blocks: [{ type: 'text', text: words }] }, { delayMs }));
  process.stdout.write(`${JSON.stringify({ openai: openai.url, anthropic: anthropic.url })}\n`);
  process.on('SIGTERM', async () => {
    await openai.close();
    await anthropic.close();
    process.exit(0);
  });
}

void main();
