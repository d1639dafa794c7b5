// The session's tokens and estimated cost, and the providers' health (GET /health on this origin;
// deployed, health lives on the chat function behind its key, so the panel says it is not here).
import { useEffect, useState } from 'react';
import type { SessionUsageTotals, VisionSession } from '../../client';

interface Health {
  status: string;
  echoFallback?: boolean;
  routes?: {
    name: string;
    targets: { id: string; provider: string; model: string; keyConfigured: boolean; state?: string }[];
  }[];
}

const USAGE_SETTLE_MS = 1500;
const USAGE_REFRESH_MS = 30_000;

export function UsagePanel(props: { session: VisionSession | null; turns: number }) {
  const { session, turns } = props;
  const [usage, setUsage] = useState<SessionUsageTotals | null>(null);
  const [health, setHealth] = useState<Health | null | 'unavailable'>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: read again after every answer (turns)
  useEffect(() => {
    if (!session) return;
    let stale = false;
    const read = () => {
      session
        .usage()
        .then((u) => !stale && setUsage(u))
        .catch(() => undefined);
      fetch('/health')
        .then(async (r) => (r.ok ? ((await r.json()) as Health) : 'unavailable'))
        .then((h) => !stale && setHealth(h))
        .catch(() => !stale && setHealth('unavailable'));
    };
    read();
    // The chat function adds a turn's usage as the turn ends, a moment after the answer arrives.
    const again = setTimeout(read, USAGE_SETTLE_MS);
    const every = setInterval(read, USAGE_REFRESH_MS);
    return () => {
      stale = true;
      clearTimeout(again);
      clearInterval(every);
    };
  }, [session, turns]);

  const targets = health && health !== 'unavailable' ? (health.routes ?? []).flatMap((r) => r.targets) : [];
  return (
    <section className="panel usage" aria-labelledby="usage-title">
      <h2 id="usage-title">Session</h2>
      <dl>
        <dt>Tokens</dt>
        <dd data-testid="tokens">
          {usage?.available ? `${usage.tokensIn} in · ${usage.tokensOut} out` : '—'}
        </dd>
        <dt>Cost</dt>
        <dd>{usage?.available ? `$${usage.costUsd.toFixed(4)}` : '—'}</dd>
        <dt>Providers</dt>
        <dd>
          {health === 'unavailable' || (health && !health.routes) ? (
            'health not available from this page'
          ) : (
            <ul className="providers">
              {health?.echoFallback && <li>echo (no provider key configured)</li>}
              {targets.map((t) => (
                <li key={t.id}>
                  {t.provider} {t.model}: {t.keyConfigured ? (t.state ?? 'closed') : 'no key'}
                </li>
              ))}
            </ul>
          )}
        </dd>
      </dl>
    </section>
  );
}
