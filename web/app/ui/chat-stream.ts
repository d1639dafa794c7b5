// Typed turns without an ElevenLabs agent (`make dev` with no agent configured): straight to the
// product's own /v1/chat/completions on this origin, shaped as ElevenLabs' turns are, streamed.

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export async function streamChat(
  history: readonly ChatMessage[],
  sessionId: string,
  onText: (soFar: string) => void,
): Promise<string> {
  const res = await fetch('/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'system', content: 'You are a helpful agent that can see.' }, ...history],
      elevenlabs_extra_body: { session_id: sessionId },
    }),
  });
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => ({}))) as { error?: { message?: string; code?: string } };
    throw new Error(
      `${body.error?.message ?? `The chat answered ${res.status}.`} (${body.error?.code ?? res.status})`,
    );
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') return text;
        const chunk = JSON.parse(data) as {
          choices?: { delta?: { content?: string } }[];
          error?: { message?: string };
        };
        if (chunk.error) throw new Error(chunk.error.message ?? 'The answer stopped with an error.');
        const delta = chunk.choices?.[0]?.delta?.content;
        if (delta) {
          text += delta;
          onText(text);
        }
      }
    }
  }
}
