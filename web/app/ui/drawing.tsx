// The drawing canvas (pen, colours, eraser, undo, clear): its picture goes to the `canvas` slot
// shortly after each stroke ends, so the agent sees the drawing as it grows.
import { useCallback, useEffect, useRef, useState } from 'react';

interface Stroke {
  colour: string;
  width: number;
  erase: boolean;
  points: [number, number][];
}

const COLOURS = [
  { name: 'Black', value: '#1b1b1b' },
  { name: 'Red', value: '#d62828' },
  { name: 'Blue', value: '#1d4ed8' },
  { name: 'Green', value: '#15803d' },
];
/** Quiet time after a stroke before the picture is sent: quick strokes make one upload. */
export const DRAWING_DEBOUNCE_MS = 800;
const WIDTH = 480;
const HEIGHT = 320;

function paint(ctx: CanvasRenderingContext2D, strokes: readonly Stroke[]): void {
  ctx.globalCompositeOperation = 'source-over';
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, WIDTH, HEIGHT);
  for (const s of strokes) {
    ctx.strokeStyle = s.erase ? '#ffffff' : s.colour;
    ctx.lineWidth = s.erase ? s.width * 4 : s.width;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    for (const [i, [x, y]] of s.points.entries()) {
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    }
    if (s.points.length === 1) ctx.lineTo(s.points[0]![0] + 0.1, s.points[0]![1]);
    ctx.stroke();
  }
}

export function Drawing({ onDrawing }: { onDrawing: (blob: Blob, name: string, slot: string) => void }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const strokes = useRef<Stroke[]>([]);
  const drawing = useRef<Stroke | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const [colour, setColour] = useState(COLOURS[0]!.value);
  const [erase, setErase] = useState(false);
  const [count, setCount] = useState(0);

  const redraw = useCallback(() => {
    const ctx = canvas.current?.getContext('2d');
    if (ctx) paint(ctx, drawing.current ? [...strokes.current, drawing.current] : strokes.current);
  }, []);

  useEffect(() => {
    redraw();
    return () => clearTimeout(timer.current);
  }, [redraw]);

  const send = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => {
      canvas.current?.toBlob((b) => b && onDrawing(b, 'drawing', 'canvas'), 'image/png');
    }, DRAWING_DEBOUNCE_MS);
  }, [onDrawing]);

  const at = (e: React.PointerEvent<HTMLCanvasElement>): [number, number] => {
    const r = e.currentTarget.getBoundingClientRect();
    return [((e.clientX - r.left) * WIDTH) / r.width, ((e.clientY - r.top) * HEIGHT) / r.height];
  };

  const changed = () => {
    setCount(strokes.current.length);
    redraw();
    send();
  };

  return (
    <section className="panel" aria-labelledby="drawing-title">
      <h2 id="drawing-title">Drawing</h2>
      <canvas
        ref={canvas}
        width={WIDTH}
        height={HEIGHT}
        className="drawing"
        role="img"
        aria-label={`Drawing canvas, ${count} strokes; it is sent to the agent after each stroke`}
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          drawing.current = { colour, width: 4, erase, points: [at(e)] };
          redraw();
        }}
        onPointerMove={(e) => {
          if (!drawing.current) return;
          drawing.current.points.push(at(e));
          redraw();
        }}
        onPointerUp={() => {
          if (!drawing.current) return;
          strokes.current.push(drawing.current);
          drawing.current = null;
          changed();
        }}
        onPointerCancel={() => {
          drawing.current = null;
          redraw();
        }}
      />
      <div className="row" role="toolbar" aria-label="Drawing tools">
        {COLOURS.map((c) => (
          <button
            key={c.value}
            type="button"
            className="swatch"
            aria-label={`Pen ${c.name}`}
            aria-pressed={!erase && colour === c.value}
            style={{ background: c.value }}
            onClick={() => {
              setColour(c.value);
              setErase(false);
            }}
          />
        ))}
        <button type="button" aria-pressed={erase} onClick={() => setErase(true)}>
          Eraser
        </button>
        <button
          type="button"
          disabled={count === 0}
          onClick={() => {
            strokes.current.pop();
            changed();
          }}
        >
          Undo
        </button>
        <button
          type="button"
          disabled={count === 0}
          onClick={() => {
            strokes.current = [];
            changed();
          }}
        >
          Clear
        </button>
      </div>
    </section>
  );
}
