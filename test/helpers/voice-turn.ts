// A chat turn shaped as ElevenLabs sends it to a custom LLM: streamed, `max_tokens: -1` (its
// "no limit"), a `user_id`, the agent's system prompt first, its system tools (one without a
// description, sent as `description: null`). For tests and benches.
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
    tools: [
      {
        type: 'function' as const,
        function: {
          name: 'end_call',
          description: 'Ends the call when the user says goodbye.',
          parameters: { type: 'object', properties: { reason: { type: 'string' } }, required: ['reason'] },
        },
      },
      {
        type: 'function' as const,
        function: { name: 'skip_turn', description: null, parameters: { type: 'object', properties: {} } },
      },
    ],
  };
}
