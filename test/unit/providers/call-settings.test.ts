// The one rule for call settings (shared/providers/call-settings.ts), as a table, and the debug
// line a provider writes once when it must leave a setting out.
import { createLogger } from '../../../shared/observability/log';
import { type ChatRequest, chatRequestSchema } from '../../../shared/openai/schema';
import { callSettings, DroppedSettings, samplingSettings } from '../../../shared/providers/call-settings';

const req = (body: Record<string, unknown>): ChatRequest =>
  chatRequestSchema.parse({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...body });

test.each([
  ['the client alone', { max_tokens: 50 }, undefined, 50],
  ['max_completion_tokens before max_tokens', { max_completion_tokens: 40, max_tokens: 50 }, undefined, 40],
  ['the route alone', {}, 300, 300],
  ['the route caps a larger client limit', { max_tokens: 2000 }, 300, 300],
  ['a smaller client limit stays under the route', { max_tokens: 50 }, 300, 50],
  ["ElevenLabs' -1 is unset: the route applies", { max_tokens: -1 }, 300, 300],
  ["ElevenLabs' -1 and no route: no limit", { max_tokens: -1 }, undefined, undefined],
])('maxTokens: %s', (_name, body, ceiling, expected) => {
  expect(callSettings(req(body), ceiling === undefined ? undefined : { maxTokens: ceiling }).maxTokens).toBe(
    expected,
  );
});

test.each([
  ["the client's", { temperature: 0.4 }, undefined, 0.4],
  ["the route's replaces the client's", { temperature: 0.4 }, 0.9, 0.9],
  ["the route's when the client sets none", {}, 0.9, 0.9],
  ['null is unset', { temperature: null }, undefined, undefined],
])('temperature: %s', (_name, body, routeTemperature, expected) => {
  const overrides = routeTemperature === undefined ? undefined : { temperature: routeTemperature };
  expect(callSettings(req(body), overrides).temperature).toBe(expected);
});

test("top_p is the client's; the sampling settings are named by their wire names", () => {
  const s = callSettings(req({ temperature: 0.2, top_p: 0.9 }), undefined);
  expect(s.topP).toBe(0.9);
  expect(samplingSettings(s)).toEqual(['temperature', 'top_p']);
  expect(samplingSettings(callSettings(req({}), { maxTokens: 5 }))).toEqual([]);
});

test('a dropped setting is logged once per setting, at debug', () => {
  const lines: Record<string, unknown>[] = [];
  const dropped = new DroppedSettings(
    createLogger('debug', {}, (l) => lines.push(JSON.parse(l) as Record<string, unknown>)),
    'anthropic',
  );
  dropped.note(['temperature'], 'refused', 'claude-x');
  dropped.note(['temperature', 'top_p'], 'refused', 'claude-x');
  dropped.note(['top_p'], 'refused', 'claude-y');
  expect(lines.map((l) => [l.level, l.setting, l.model])).toEqual([
    ['debug', 'temperature', 'claude-x'],
    ['debug', 'top_p', 'claude-x'],
  ]);
});
