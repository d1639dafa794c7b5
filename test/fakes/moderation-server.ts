// A fake OpenAI moderation upstream (POST /v1/moderations, the real response shape): flags any
// input containing one of the given words, under the "violence" category.
import { type RecordedRequest, type ScriptedServer, startScriptedServer } from './scripted-server';

export function moderationResult(input: string, flaggedWords: readonly string[]) {
  const flagged = flaggedWords.some((w) => input.toLowerCase().includes(w.toLowerCase()));
  return {
    id: 'modr-fake',
    model: 'omni-moderation-latest',
    results: [
      {
        flagged,
        categories: { violence: flagged, harassment: false, sexual: false, 'self-harm': false },
        category_scores: { violence: flagged ? 0.97 : 0.01, harassment: 0, sexual: 0, 'self-harm': 0 },
        category_applied_input_types: { violence: ['text'], harassment: [], sexual: [], 'self-harm': [] },
      },
    ],
  };
}

export async function startModerationServer(flaggedWords: readonly string[]): Promise<ScriptedServer> {
  return startScriptedServer({
    paths: ['/v1/moderations'],
    default: (req: RecordedRequest) => {
      const input = String((req.body as { input?: unknown } | undefined)?.input ?? '');
      return { kind: 'json', status: 200, body: moderationResult(input, flaggedWords) };
    },
  });
}
