// A chat turn shaped as ElevenLabs sends it to a custom LLM: streamed, `max_tokens: -1` (its
// "no limit"), a `user_id`, the agent's system prompt first. For tests and benches.
export function voiceTurnBody(text: string) {
  return {
    model: 'gpt-4o',
    stream: true as const,
    max_tokens: -1,
    user_id: 'caller',
    messages: [
      { role: 'system' as const, content: 'You can see.' },
      { role: 'user' as const, content: text },
    ],
  };
}
