// Issue 9, item 2: a request cannot open a circuit. Measured before the fix: a chat request
// whose tool parameters nested 5000 deep never reached the upstream, came back as a 502
// "connection failed", counted against the target, and after 3 of them every turn got a 503
// for 30 s. Now it is the caller's 400 naming the field, and the breaker never hears of it.
import { type Emulators, startEmulators } from '../../../infra/local/emulators';
import { MAX_JSON_DEPTH } from '../../../shared/http/json-depth';
import { rawPost } from '../../helpers/chat-server';
import {
  breakerHealth,
  CHAT_KEY,
  chatEnv,
  createControlTable,
  documentClient,
  FALLBACK,
  OPENAI_ANSWER,
  openaiClient,
  openaiErrorOf,
  PRIMARY,
  type RunningService,
  startChatService,
  startUpstreams,
  streamTurn,
  type Upstreams,
} from './harness';

let emu: Emulators;
let up: Upstreams;
let svc: RunningService;

beforeAll(async () => {
  emu = await startEmulators({ tables: [], buckets: [] });
  up = await startUpstreams();
  const table = await createControlTable(emu, 'deep-request');
  svc = await startChatService(
    chatEnv(up, {
      CONTROL_TABLE: table,
      AWS_ENDPOINT_URL_DYNAMODB: emu.dynamoEndpoint,
      AWS_REGION: emu.region,
    }),
    documentClient(emu),
  );
});
afterAll(async () => {
  await svc.close();
  await up.close();
  await emu.close();
});

/**
 * An ElevenLabs-shaped turn (system prompt, a system tool, user_id, extra body) whose one
 * tool's parameters nest `levels` deep, written as text: 10-25 KB, like the measured request.
 */
function deepToolTurn(model: string, levels: number, stream: boolean, arrays: boolean): string {
  const open = arrays ? '['.repeat(levels) : '{"a":'.repeat(levels);
  const close = arrays ? ']'.repeat(levels) : '}'.repeat(levels);
  return (
    `{"model":"${model}","stream":${stream},"user_id":"u1","elevenlabs_extra_body":{},` +
    `"messages":[{"role":"system","content":"You can see."},{"role":"user","content":"Hi"}],` +
    `"tools":[{"type":"function","function":{"name":"end_call","parameters":{"a":${open}1${close}}}}]}`
  );
}

test('20 deeply nested requests are 400 json_too_deep; the breakers stay closed and the next turn flows', async () => {
  const models = ['gpt-4o', 'claude', 'solo'];
  for (let i = 0; i < 20; i++) {
    const body = deepToolTurn(models[i % 3]!, 5000, i % 2 === 0, i % 4 < 2);
    const res = await rawPost(`${svc.url}/v1/chat/completions`, body, {
      authorization: `Bearer ${CHAT_KEY}`,
    });
    expect(res.status).toBe(400);
    const err = openaiErrorOf(JSON.parse(res.text));
    expect(err.code).toBe('json_too_deep');
    expect(err.type).toBe('invalid_request_error');
    expect(err.param).toMatch(/^tools\[0\]\.function\.parameters\.a/);
  }
  expect(up.openai.requests).toHaveLength(0);
  expect(up.anthropic.requests).toHaveLength(0);
  for (const [route, target] of [
    ['gpt-4o', PRIMARY],
    ['gpt-4o', FALLBACK],
  ] as const) {
    const h = await breakerHealth(svc.url, route, target);
    expect(h.state).toBe('closed');
    expect(h.recentFailures ?? 0).toBe(0);
  }
  const turn = await streamTurn(openaiClient(svc.url), 'solo');
  expect(turn.error).toBeUndefined();
  expect(turn.text).toBe(OPENAI_ANSWER.join(''));
});

test(`nesting up to ${MAX_JSON_DEPTH} levels is accepted and reaches the upstream`, async () => {
  // The body is level 1, tools 2, tools[0] 3, function 4, parameters 5; the arrays in `a` start at 6.
  const before = up.openai.requests.length;
  const body = deepToolTurn('solo', MAX_JSON_DEPTH - 5, false, true);
  const res = await rawPost(`${svc.url}/v1/chat/completions`, body, { authorization: `Bearer ${CHAT_KEY}` });
  expect(res.status).toBe(200);
  expect(up.openai.requests.length).toBe(before + 1);
  const tooDeep = deepToolTurn('solo', MAX_JSON_DEPTH - 4, false, true);
  const refused = await rawPost(`${svc.url}/v1/chat/completions`, tooDeep, {
    authorization: `Bearer ${CHAT_KEY}`,
  });
  expect(refused.status).toBe(400);
  expect(openaiErrorOf(JSON.parse(refused.text)).param).toBe(
    `tools[0].function.parameters.a${'[0]'.repeat(MAX_JSON_DEPTH - 5)}`,
  );
});
