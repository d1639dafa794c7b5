// The Responses door's framing over the core's encoder contract: buffer words go out with
// response.created at once; without them the opening events share the first token's write.
import { responsesDoor } from '../../../shared/responses/door';

const names = (frames: string): string[] => [...frames.matchAll(/^event: (.+)$/gm)].map((m) => m[1]!);
const turn = responsesDoor.parse(
  Buffer.from(JSON.stringify({ model: 'm', input: 'hi', stream: true, metadata: { trace: 't1' } })),
);

test('without buffer words: start writes nothing; the first event carries the opening events', () => {
  const enc = responsesDoor.streamEncoder(turn, 0);
  expect(enc.start(undefined)).toEqual([]);
  const first = enc.encode({ type: 'text', text: 'Hi' })!;
  expect(names(first)).toEqual([
    'response.created',
    'response.in_progress',
    'response.output_item.added',
    'response.content_part.added',
    'response.output_text.delta',
  ]);
  expect(names(enc.encode({ type: 'text', text: '!' })!)).toEqual(['response.output_text.delta']);
  const end = enc.end().join('');
  expect(names(end).at(-1)).toBe('response.completed');
  // The echo comes from the door's parsed body: metadata is not part of the internal request.
  expect(end).toContain('"metadata":{"trace":"t1"}');
});

test('with buffer words: response.created and the words go out at start, before any upstream event', () => {
  const enc = responsesDoor.streamEncoder(turn, 0);
  const [start] = enc.start('... ');
  expect(names(start!)).toEqual([
    'response.created',
    'response.in_progress',
    'response.output_item.added',
    'response.content_part.added',
    'response.output_text.delta',
  ]);
  expect(start).toContain('"delta":"... "');
});

test('a stream stopped before any event still opens and ends the response', () => {
  const enc = responsesDoor.streamEncoder(turn, 0);
  enc.start(undefined);
  const err = new (class extends Error {
    toBody() {
      return {
        error: {
          message: 'stopped',
          type: 'invalid_request_error' as const,
          param: null,
          code: 'turn_superseded',
        },
      };
    }
  })('stopped');
  const frames = enc.error(err as never).join('');
  expect(names(frames)).toEqual(['response.created', 'response.in_progress', 'response.failed']);
});
