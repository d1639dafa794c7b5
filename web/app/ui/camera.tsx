// The camera: live preview (rear camera on phones), a snap button, and a live mode that sends a
// frame to the `camera` slot every few seconds, only when a small copy of the picture changed.
import { useCallback, useEffect, useRef, useState } from 'react';
import { describeMediaError } from './errors';
import { frameChanged } from './frame-change';

/** How often live mode looks at the picture. */
export const LIVE_INTERVAL_MS = 3000;
/** The size of the copy compared between looks: 64x48 costs nothing to read and to compare. */
const PROBE_WIDTH = 64;
const PROBE_HEIGHT = 48;

function toJpeg(canvas: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (b) => (b ? resolve(b) : reject(new Error('the frame could not be encoded'))),
      'image/jpeg',
      0.85,
    ),
  );
}

export function Camera({ onFrame }: { onFrame: (blob: Blob, name: string, slot?: string) => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const stream = useRef<MediaStream | null>(null);
  const lastProbe = useRef<Uint8ClampedArray | undefined>(undefined);
  const [on, setOn] = useState(false);
  const [live, setLive] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [sentFrames, setSentFrames] = useState(0);

  const stop = useCallback(() => {
    for (const t of stream.current?.getTracks() ?? []) t.stop();
    stream.current = null;
    lastProbe.current = undefined;
    setOn(false);
    setLive(false);
  }, []);

  const start = useCallback(async () => {
    setProblem(null);
    try {
      // `environment` is the rear camera on phones; laptops have only a front one and use it.
      const s = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 } },
        audio: false,
      });
      stream.current = s;
      if (video.current) {
        video.current.srcObject = s;
        await video.current.play().catch(() => undefined);
      }
      setOn(true);
    } catch (err) {
      setProblem(describeMediaError(err, 'camera'));
    }
  }, []);

  // Leaving the page or this view turns the camera off (its light too).
  useEffect(() => {
    window.addEventListener('pagehide', stop);
    return () => {
      window.removeEventListener('pagehide', stop);
      stop();
    };
  }, [stop]);

  /** The current frame at full size. */
  const grab = useCallback((): HTMLCanvasElement | null => {
    const v = video.current;
    if (!v?.videoWidth) return null;
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    c.getContext('2d')?.drawImage(v, 0, 0);
    return c;
  }, []);

  const snap = useCallback(async () => {
    const c = grab();
    if (c) onFrame(await toJpeg(c), 'camera snapshot');
  }, [grab, onFrame]);

  useEffect(() => {
    if (!live) return;
    const probe = document.createElement('canvas');
    probe.width = PROBE_WIDTH;
    probe.height = PROBE_HEIGHT;
    const ctx = probe.getContext('2d', { willReadFrequently: true });
    const look = async () => {
      const v = video.current;
      if (!ctx || !v?.videoWidth) return;
      ctx.drawImage(v, 0, 0, PROBE_WIDTH, PROBE_HEIGHT);
      const pixels = ctx.getImageData(0, 0, PROBE_WIDTH, PROBE_HEIGHT).data;
      if (!frameChanged(lastProbe.current, pixels)) return;
      lastProbe.current = pixels;
      const c = grab();
      if (!c) return;
      onFrame(await toJpeg(c), 'live camera', 'camera');
      setSentFrames((n) => n + 1);
    };
    void look();
    const timer = setInterval(() => void look(), LIVE_INTERVAL_MS);
    return () => clearInterval(timer);
  }, [live, grab, onFrame]);

  return (
    <section className="panel" aria-labelledby="camera-title">
      <h2 id="camera-title">Camera</h2>
      <video ref={video} className="preview" muted playsInline hidden={!on} aria-label="Camera preview" />
      <div className="row">
        {on ? (
          <>
            <button type="button" onClick={() => void snap()}>
              Snap
            </button>
            <label className="toggle">
              <input type="checkbox" checked={live} onChange={(e) => setLive(e.target.checked)} />
              Live (sends a frame every {LIVE_INTERVAL_MS / 1000} s when the picture changes)
            </label>
            <button type="button" onClick={stop}>
              Stop camera
            </button>
          </>
        ) : (
          <button type="button" onClick={() => void start()}>
            Start camera
          </button>
        )}
      </div>
      {live && (
        <p className="hint" data-testid="live-frames">
          Live frames sent: {sentFrames}
        </p>
      )}
      {problem && (
        <p className="problem" role="alert">
          {problem}
        </p>
      )}
    </section>
  );
}
