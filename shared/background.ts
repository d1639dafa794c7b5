// Writes a request starts without making the caller wait (circuit-breaker records, a session's
// usage totals). A host whose process may be frozen once its handler returns awaits
// `backgroundSettled()` first: Lambda freezes the execution environment as soon as the runtime
// asks for the next event, and a write frozen half-sent lands late or never.
const pending = new Set<Promise<unknown>>();

/** Tracks `work` until it settles (its own failures are its own to report). */
export function inBackground(work: Promise<unknown>): void {
  pending.add(work);
  const done = () => {
    pending.delete(work);
  };
  work.then(done, done);
}

/** Resolves when every tracked write has settled, including ones started while waiting. */
export async function backgroundSettled(): Promise<void> {
  while (pending.size > 0) await Promise.allSettled([...pending]);
}
