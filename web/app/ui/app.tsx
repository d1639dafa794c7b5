// The reference app's layout: the conversation on one side, what the agent sees on the other
// (add images, camera, drawing, thumbnails, generated images), the session panel below. One column on phones.
import { useCallback, useEffect, useState } from 'react';
import { createSession, type VisionSession } from '../../client';
import { Camera } from './camera';
import { Drawing } from './drawing';
import { describeError } from './errors';
import { Generations } from './generations';
import { AddImages, Thumbnails } from './images';
import { UsagePanel } from './usage';
import { useImages } from './use-images';
import { Voice } from './voice';

export function App() {
  const [session, setSession] = useState<VisionSession | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [turns, setTurns] = useState(0);
  const images = useImages(session);

  useEffect(() => {
    let created: VisionSession | null = null;
    let cancelled = false;
    // The API is this page's own origin: no CORS, no configuration.
    createSession({ apiUrl: window.location.origin }, { connection: 'websocket' })
      .then((s) => {
        if (cancelled) void s.delete().catch(() => undefined);
        else {
          created = s;
          setSession(s);
        }
      })
      .catch((err: unknown) => setProblem(`No session: ${describeError(err)}`));
    const leave = () => void created?.delete().catch(() => undefined);
    window.addEventListener('pagehide', leave);
    return () => {
      cancelled = true;
      window.removeEventListener('pagehide', leave);
    };
  }, []);

  const onTurnDone = useCallback(() => setTurns((n) => n + 1), []);
  const addBlob = images.addBlob;
  const onFrame = useCallback(
    (blob: Blob, name: string, slot?: string) => void addBlob(blob, name, slot),
    [addBlob],
  );

  return (
    <>
      <header>
        <h1>Vision agent</h1>
        <p className="session" data-session={session ? 'ready' : problem ? 'failed' : 'creating'}>
          {session ? `Session ${session.id}` : (problem ?? 'Creating a session…')}
        </p>
      </header>
      <main>
        <div className="column">
          <Voice session={session} onTurnDone={onTurnDone} />
          <UsagePanel session={session} turns={turns} />
        </div>
        <div className="column">
          <AddImages images={images} disabled={!session} />
          <Thumbnails images={images} />
          <Camera onFrame={onFrame} />
          <Drawing onDrawing={onFrame} />
          <Generations session={session} turns={turns} />
        </div>
      </main>
    </>
  );
}
