import { Router } from '../../../shared/http/router';
import { type HttpRequest, jsonResponse } from '../../../shared/http/types';

const req = (method: string, path: string): HttpRequest => ({
  method,
  path,
  headers: {},
  query: {},
  body: Buffer.alloc(0),
  sourceIp: '',
});
const signal = new AbortController().signal;
const handler = new Router()
  .on('GET', '/sessions/:id', async (_r, p) => jsonResponse(200, { id: p.id }))
  .on('DELETE', '/sessions/:id', async () => ({ status: 204, headers: {}, body: '' }))
  .handler();

test('params are decoded; a trailing slash matches', async () => {
  const r = await handler(req('GET', '/sessions/a%20b/'), signal);
  expect(JSON.parse(r.body!)).toEqual({ id: 'a b' });
});

test('a malformed percent-escape is a 400, not a 500', async () => {
  const r = await handler(req('GET', '/sessions/%E0%A4%A'), signal);
  expect(r.status).toBe(400);
  expect(JSON.parse(r.body!).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_path' });
});

test('HEAD answers like GET without a body', async () => {
  const r = await handler(req('HEAD', '/sessions/x'), signal);
  expect([r.status, r.body]).toEqual([200, '']);
});

test('a known path with another method is a 405 naming the allowed ones; unknown paths 404', async () => {
  const r = await handler(req('PUT', '/sessions/x'), signal);
  expect(r.status).toBe(405);
  expect(JSON.parse(r.body!).error.message).toContain('use GET or DELETE');
  expect((await handler(req('GET', '/nope'), signal)).status).toBe(404);
  expect((await handler(req('OPTIONS', '/sessions/x'), signal)).status).toBe(204);
});
