// Generated images: the session's generations (those the voice agent started too), each with its
// estimate and Confirm/Cancel while it waits, progress while queued or running, the image with
// provider, model, cost and a fallback badge when ready, the reason when it failed; and a small
// form to ask for an image without voice.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { PublicGeneration, VisionSession } from '../../client';
import { describeError } from './errors';

/** How often the list is read again while a job runs (someone is watching), and while one only waits for a yes (by voice). */
const RUNNING_POLL_MS = 1000;
const WAITING_POLL_MS = 3000;

const usd = (n: number) => `$${n.toFixed(3)}`;

export function Generations(props: { session: VisionSession | null; turns: number }) {
  const { session, turns } = props;
  const [list, setList] = useState<PublicGeneration[]>([]);
  /** Presigned image URLs by generation id (the list omits them; one read of each ready generation). */
  const [urls, setUrls] = useState<Record<string, string>>({});
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [prompt, setPrompt] = useState('');
  const [quality, setQuality] = useState<'low' | 'medium' | 'high'>('medium');
  const [asking, setAsking] = useState(false);
  const [formProblem, setFormProblem] = useState<string | null>(null);
  const [enabled, setEnabled] = useState(true);
  const fetched = useRef(new Set<string>());

  const refresh = useCallback(async () => {
    if (!session) return;
    let gens: PublicGeneration[];
    try {
      // The session view lists generations only when the server has image generation on.
      const view = await session.get();
      setEnabled(view.generations !== undefined);
      gens = view.generations ?? [];
    } catch {
      return; // The next poll or turn tries again; the panel keeps what it showed.
    }
    setList(gens);
    for (const g of gens) {
      if (g.status !== 'ready' || fetched.current.has(g.generationId)) continue;
      fetched.current.add(g.generationId);
      session
        .getGeneration(g.generationId)
        .then((full) => full.imageUrl && setUrls((u) => ({ ...u, [g.generationId]: full.imageUrl! })))
        .catch(() => fetched.current.delete(g.generationId));
    }
  }, [session]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: read again after every agent turn (turns): the agent may have started one
  useEffect(() => {
    void refresh();
  }, [refresh, turns]);

  const poll = list.some((g) => g.status === 'queued' || g.status === 'running')
    ? RUNNING_POLL_MS
    : list.some((g) => g.status === 'awaiting_confirmation')
      ? WAITING_POLL_MS
      : 0;
  useEffect(() => {
    if (!poll) return;
    const every = setInterval(() => void refresh(), poll);
    return () => clearInterval(every);
  }, [poll, refresh]);

  const act = async (g: PublicGeneration, what: 'confirm' | 'cancel') => {
    if (!session) return;
    setProblems(({ [g.generationId]: _, ...rest }) => rest);
    try {
      const next =
        what === 'confirm'
          ? await session.confirmGeneration(g.generationId)
          : await session.cancelGeneration(g.generationId);
      setList((l) => l.map((x) => (x.generationId === next.generationId ? next : x)));
    } catch (err) {
      setProblems((p) => ({ ...p, [g.generationId]: describeError(err) }));
    }
    void refresh();
  };

  const ask = async () => {
    const text = prompt.trim();
    if (!session || !text) return;
    setAsking(true);
    setFormProblem(null);
    try {
      const g = await session.generate(text, { quality });
      setList((l) => [...l.filter((x) => x.generationId !== g.generationId), g]);
      setPrompt('');
      void refresh();
    } catch (err) {
      setFormProblem(describeError(err));
    } finally {
      setAsking(false);
    }
  };

  return (
    <section className="panel generations" aria-labelledby="generations-title">
      <h2 id="generations-title">Generated images</h2>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void ask();
        }}
      >
        <label htmlFor="generate-prompt" className="visually-hidden">
          Describe an image to generate
        </label>
        <input
          id="generate-prompt"
          value={prompt}
          onChange={(e) => setPrompt(e.target.value)}
          placeholder="Describe an image"
          autoComplete="off"
        />
        <label htmlFor="generate-quality" className="visually-hidden">
          Quality
        </label>
        <select
          id="generate-quality"
          value={quality}
          onChange={(e) => setQuality(e.target.value as typeof quality)}
        >
          <option value="low">Low</option>
          <option value="medium">Medium</option>
          <option value="high">High</option>
        </select>
        <button type="submit" disabled={!session || asking || !enabled}>
          Generate
        </button>
      </form>
      {formProblem && (
        <p className="problem" role="alert">
          {formProblem}
        </p>
      )}
      {!enabled ? (
        <p className="hint" data-testid="generation-off">
          Image generation is not enabled on this server (IMAGE_GENERATION).
        </p>
      ) : list.length === 0 ? (
        <p className="hint">None yet: ask the agent to draw something, or describe it above.</p>
      ) : (
        <ul className="gens" aria-live="polite">
          {[...list].reverse().map((g) => (
            <li
              key={g.generationId}
              className={`gen ${g.status}`}
              data-status={g.status}
              data-gid={g.generationId}
            >
              <p className="prompt">{g.prompt}</p>
              <GenerationBody g={g} url={urls[g.generationId]} onAct={(what) => void act(g, what)} />
              {problems[g.generationId] && (
                <p className="problem" role="alert">
                  {problems[g.generationId]}
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function GenerationBody(props: {
  g: PublicGeneration;
  url: string | undefined;
  onAct: (what: 'confirm' | 'cancel') => void;
}) {
  const { g, url, onAct } = props;
  switch (g.status) {
    case 'awaiting_confirmation':
      return (
        <>
          <p className="estimate">
            Estimate {usd(g.estimateUsd)} with {g.chosen.provider} {g.chosen.model}
          </p>
          <div className="row">
            <button
              type="button"
              className="primary"
              onClick={() => onAct('confirm')}
              aria-label={`Confirm ${usd(g.estimateUsd)} for “${g.prompt}”`}
            >
              Confirm {usd(g.estimateUsd)}
            </button>
            <button type="button" onClick={() => onAct('cancel')} aria-label={`Cancel “${g.prompt}”`}>
              Cancel
            </button>
          </div>
        </>
      );
    case 'queued':
    case 'running': {
      const label = g.status === 'queued' ? 'Queued…' : 'Drawing…';
      return (
        <div className="row progress">
          <progress aria-label={`${label} “${g.prompt}”`} /> {label}
          {g.status === 'queued' && (
            <button type="button" onClick={() => onAct('cancel')} aria-label={`Cancel “${g.prompt}”`}>
              Cancel
            </button>
          )}
        </div>
      );
    }
    case 'ready':
      return (
        <>
          {url ? <img src={url} alt={g.prompt} /> : <span className="noimg">Loading the image…</span>}
          <p className="made-by">
            {g.provider} {g.model} · {usd(g.costUsd ?? 0)}
            {g.fallbackUsed && (
              <span
                className="badge"
                title="The first model failed; another one drew it, within the estimate"
              >
                fallback
              </span>
            )}
          </p>
        </>
      );
    case 'failed':
      return (
        <p className="failed">
          Failed: {g.error ? `${g.error.message} (${g.error.code})` : 'no reason given'}
        </p>
      );
    case 'expired':
      return <p className="hint">Expired: not confirmed in time.</p>;
    case 'cancelled':
      return <p className="hint">Cancelled.</p>;
  }
}
