// A voice client that hangs up: sends one chat turn (or, with `path`, a Responses turn) over raw HTTP and destroys its socket after
// `ms`, as ElevenLabs does when the user interrupts the agent. For tests and the bench.
import { request } from 'node:http';

export function hangUpAfter(
  baseUrl: string,
  body: unknown,
  ms: number,
  headers: Record<string, string> = {},
  path = '/v1/chat/completions',
): Promise<void> {
  return new Promise((resolve) => {
    const req = request(`${baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
    });
    req.on('response', (res) => res.resume());
    // The destroy below makes the request fail; that is the point.
    req.on('error', () => {});
    req.end(typeof body === 'string' ? body : JSON.stringify(body));
    setTimeout(() => {
      req.destroy();
      resolve();
    }, ms);
  });
}
