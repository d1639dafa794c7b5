// The call settings of one upstream call (token limit, sampling), derived by one rule for every
// provider from the client's request and the route target's options, so failing over inside a
// route never changes the limit; and the one debug line a provider writes when it must drop one.
import type { Logger } from '../observability/log';
import type { ChatRequest } from '../openai/schema';
import type { TargetCall } from './types';

export interface CallSettings {
  /** The completion token limit; undefined when neither the client nor the route sets one. */
  maxTokens?: number;
  temperature?: number;
  topP?: number;
}

/**
 * The rule, the same for every provider:
 * - maxTokens: the client's `max_completion_tokens`, else its `max_tokens` (<= 0 already read as
 *   unset by the schema), is its limit; the route's `maxTokens` is a ceiling over it: the smaller
 *   wins, and the route's alone applies when the client sets none. A provider that requires a
 *   limit (Anthropic) uses its configured default when both are unset.
 * - temperature: the route's, when set, replaces the client's (an operator pins it per target).
 * - top_p: the client's.
 */
export function callSettings(request: ChatRequest, overrides: TargetCall['overrides']): CallSettings {
  const client = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  const ceiling = overrides?.maxTokens;
  const maxTokens =
    client === undefined ? ceiling : ceiling === undefined ? client : Math.min(client, ceiling);
  const temperature = overrides?.temperature ?? request.temperature ?? undefined;
  const topP = request.top_p ?? undefined;
  const out: CallSettings = {};
  if (maxTokens !== undefined) out.maxTokens = maxTokens;
  if (temperature !== undefined) out.temperature = temperature;
  if (topP !== undefined) out.topP = topP;
  return out;
}

/** The sampling settings (wire names) a call carries. */
export function samplingSettings(s: CallSettings): string[] {
  const names: string[] = [];
  if (s.temperature !== undefined) names.push('temperature');
  if (s.topP !== undefined) names.push('top_p');
  return names;
}

/**
 * Says, once per setting and provider instance, at debug level, that a provider leaves a setting
 * out and why: agents set temperature on every turn, so a line per turn would be noise, and none
 * at all would leave an operator wondering why the setting has no effect.
 */
export class DroppedSettings {
  private readonly logged = new Set<string>();

  constructor(
    private readonly log: Logger,
    private readonly provider: string,
  ) {}

  note(settings: readonly string[], why: string, model: string): void {
    for (const setting of settings) {
      if (this.logged.has(setting)) continue;
      this.logged.add(setting);
      this.log.debug('call setting dropped', { provider: this.provider, model, setting, why });
    }
  }
}
