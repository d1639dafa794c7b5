// The streamed-response decoder: the prelude and its 8-NUL delimiter may arrive split across
// any number of chunks, and body bytes that follow in the same chunk are not lost.
import { PreludeDecoder, parsePrelude } from '../../../infra/local/lambda/streaming-prelude';

const wire = Buffer.concat([
  Buffer.from(
    JSON.stringify({ statusCode: 201, headers: { 'Content-Type': 'text/event-stream' }, cookies: ['a=1'] }),
  ),
  Buffer.alloc(8),
  Buffer.from('data: one\n\ndata: two\n\n'),
]);

test.each([1, 3, 8, 50, wire.length])('split every %i bytes, the prelude once and the body whole', (step) => {
  const decoder = new PreludeDecoder();
  const events = [];
  for (let i = 0; i < wire.length; i += step) events.push(...decoder.push(wire.subarray(i, i + step)));
  expect(events[0]).toEqual({
    type: 'prelude',
    prelude: { statusCode: 201, headers: { 'content-type': 'text/event-stream' }, cookies: ['a=1'] },
  });
  expect(events.filter((e) => e.type === 'prelude')).toHaveLength(1);
  const body = Buffer.concat(events.flatMap((e) => (e.type === 'body' ? [e.chunk] : [])));
  expect(body.toString()).toBe('data: one\n\ndata: two\n\n');
  expect(decoder.done).toBe(true);
});

test('NUL bytes inside the body after the delimiter are body, not another delimiter', () => {
  const decoder = new PreludeDecoder();
  const events = decoder.push(
    Buffer.concat([Buffer.from('{"statusCode":200}'), Buffer.alloc(8), Buffer.alloc(8, 0)]),
  );
  expect(events[1]).toEqual({ type: 'body', chunk: Buffer.alloc(8) });
});

test('a prelude that is not JSON is refused with what it held', () => {
  expect(() => parsePrelude(Buffer.from('nope'))).toThrow('the streaming prelude is not JSON: nope');
});
