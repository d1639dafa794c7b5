// One live turn per conversation, through the real AWS SDK against the embedded DynamoDB: a newer
// turn stops the older one at once in the same container, and within a poll from another container.
import { type Emulators, startEmulators } from '../../../infra/local/emulators';
import { TurnAborted } from '../../../shared/chat/turn-abort';
import { DynamoLiveTurnStore, type LiveTurnStore } from '../../../shared/turns/live-turn-store';
import { LiveTurns } from '../../../shared/turns/live-turns';
import { CONTROL_TABLE, documentClient, freshKey, logSink } from '../limits/harness';

let emu: Emulators;
beforeAll(async () => {
  emu = await startEmulators({ tables: [CONTROL_TABLE], buckets: [] });
});
afterAll(() => emu.close());

const POLL_MS = 50;

function store(endpoint?: string): DynamoLiveTurnStore {
  return new DynamoLiveTurnStore({
    client: documentClient(emu, endpoint),
    tableName: CONTROL_TABLE,
    timeoutMs: 2000,
  });
}

/** A container: its own in-memory registry, the shared table. */
function container(s: LiveTurnStore | undefined = store()) {
  const sink = logSink();
  return { turns: new LiveTurns({ ...(s ? { store: s } : {}), pollMs: POLL_MS, log: sink.log }), sink };
}

function aborted(signal: AbortSignal, withinMs: number): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), withinMs);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

/** The turn that superseded the one `signal` belongs to, from the abort reason's message. */
function supersededBy(signal: AbortSignal): string | undefined {
  const reason = signal.reason;
  if (!(reason instanceof TurnAborted) || reason.kind !== 'superseded') return undefined;
  expect(reason.apiError).toMatchObject({ status: 409, code: 'turn_superseded' });
  return /\(([^)]+)\)/.exec(reason.message)?.[1];
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('in one container a newer turn stops the older one at once, naming the newer turn', () => {
  const { turns } = container(undefined);
  const key = freshKey('conv');
  const a = turns.begin(key, 'turn-a');
  expect(a.signal.aborted).toBe(false);
  const b = turns.begin(key, 'turn-b');
  expect(a.signal.aborted).toBe(true);
  expect(supersededBy(a.signal)).toBe('turn-b');
  expect(b.signal.aborted).toBe(false);
  b.end();
});

test('turns of other conversations, and turns with no conversation, are left alone', () => {
  const { turns } = container(undefined);
  const a = turns.begin(freshKey('conv'), 'turn-a');
  const b = turns.begin(freshKey('conv'), 'turn-b');
  const loose1 = turns.begin(undefined, 'turn-c');
  const loose2 = turns.begin(undefined, 'turn-d');
  expect([a, b, loose1, loose2].map((t) => t.signal.aborted)).toEqual([false, false, false, false]);
  for (const t of [a, b, loose1, loose2]) t.end();
});

test('a turn that ended is not stopped by the next one, and the next one is watched afresh', () => {
  const { turns } = container(undefined);
  const key = freshKey('conv');
  const a = turns.begin(key, 'turn-a');
  a.end();
  const b = turns.begin(key, 'turn-b');
  expect(a.signal.aborted).toBe(false);
  const c = turns.begin(key, 'turn-c');
  expect(b.signal.aborted).toBe(true);
  c.end();
});

test('across containers the older turn stops within one poll of the newer turn starting', async () => {
  const one = container();
  const two = container();
  const key = freshKey('conv');
  const a = one.turns.begin(key, 'turn-a');
  await settle(3 * POLL_MS); // a is claimed and polling
  expect(a.signal.aborted).toBe(false);
  const started = performance.now();
  const b = two.turns.begin(key, 'turn-b');
  expect(await aborted(a.signal, 2000)).toBe(true);
  const ms = performance.now() - started;
  expect(supersededBy(a.signal)).toBe('turn-b');
  expect(ms).toBeLessThan(1000); // one claim + one poll; generous for a loaded machine
  expect(await aborted(b.signal, 4 * POLL_MS)).toBe(false);
  b.end();
});

test('an older claim that lands after a newer one does not take the conversation back', async () => {
  const s = store();
  const key = freshKey('conv');
  await s.claim(key, { turnId: 'newer', startedAt: 2000 });
  await s.claim(key, { turnId: 'older', startedAt: 1000 });
  expect(await s.holder(key)).toBe('newer');
  await s.claim(key, { turnId: 'newest', startedAt: 3000 });
  expect(await s.holder(key)).toBe('newest');
});

test('a turn stops reading the store once it ends', async () => {
  let reads = 0;
  const real = store();
  const counting: LiveTurnStore = {
    claim: (k, c) => real.claim(k, c),
    holder: (k) => {
      reads += 1;
      return real.holder(k);
    },
  };
  const { turns } = container(counting);
  const t = turns.begin(freshKey('conv'), 'turn-a');
  await settle(4 * POLL_MS);
  expect(reads).toBeGreaterThan(0);
  t.end();
  await settle(POLL_MS);
  const after = reads;
  await settle(4 * POLL_MS);
  expect(reads).toBe(after);
});

test('an unreachable store never stops a turn, and is logged once', async () => {
  const { turns, sink } = container(
    new DynamoLiveTurnStore({ client: documentClient(emu, 'http://127.0.0.1:1'), tableName: CONTROL_TABLE }),
  );
  const t = turns.begin(freshKey('conv'), 'turn-a');
  expect(await aborted(t.signal, 8 * POLL_MS)).toBe(false);
  t.end();
  expect(sink.lines).toHaveLength(1);
  expect(sink.lines[0]).toMatchObject({
    level: 'warn',
    message: 'live turns: control table unavailable, failing open',
  });
});
