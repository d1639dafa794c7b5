// Reads raw table items back into typed records. Items are written by two functions (and may
// outlive a deploy), so every field is checked rather than cast; a malformed item is skipped.
import type { ImageSource, ImageStatus, SessionImage, SessionRecord } from './types';

type Item = Record<string, unknown>;

const STATUSES: ReadonlySet<string> = new Set<ImageStatus>(['pending', 'ready', 'duplicate']);
const SOURCES: ReadonlySet<string> = new Set<ImageSource>([
  'upload',
  'url',
  'inline',
  'message',
  'generated',
]);

function str(item: Item, name: string): string | undefined {
  const v = item[name];
  return typeof v === 'string' ? v : undefined;
}

function num(item: Item, name: string): number | undefined {
  const v = item[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Copies the optional fields that are present, so records carry no `undefined` members. */
function withOptional<T extends object>(base: T, optional: Partial<T>): T {
  const out = { ...base };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

function stringList(value: unknown): string[] | undefined {
  if (value instanceof Set) return [...value].filter((v): v is string => typeof v === 'string').sort();
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return undefined;
}

export function sessionFromItem(item: Item): SessionRecord | undefined {
  const sessionId = str(item, 'sessionId');
  const createdAt = num(item, 'createdAt');
  const expiresAt = num(item, 'expiresAt');
  const ttl = num(item, 'ttl');
  const secretHash = str(item, 'secretHash');
  if (!sessionId || createdAt === undefined || expiresAt === undefined || ttl === undefined || !secretHash)
    return undefined;
  return withOptional<SessionRecord>(
    { sessionId, createdAt, expiresAt, ttl, secretHash },
    {
      ownerSub: str(item, 'ownerSub'),
      conversationId: str(item, 'conversationId'),
      conversationIds: stringList(item.conversationIds),
      imageCount: num(item, 'imageCount'),
    },
  );
}

export function imageFromItem(item: Item): SessionImage | undefined {
  const imageId = str(item, 'imageId');
  const status = str(item, 'status');
  const source = str(item, 'source');
  const createdAt = num(item, 'createdAt');
  const ttl = num(item, 'ttl');
  if (!imageId || !status || !STATUSES.has(status) || !source || !SOURCES.has(source)) return undefined;
  if (createdAt === undefined || ttl === undefined) return undefined;
  return withOptional<SessionImage>(
    { imageId, status: status as ImageStatus, source: source as ImageSource, createdAt, ttl },
    {
      slot: str(item, 'slot'),
      rawKey: str(item, 'rawKey'),
      declaredType: str(item, 'declaredType'),
      declaredBytes: num(item, 'declaredBytes'),
      key: str(item, 'key'),
      mime: str(item, 'mime'),
      width: num(item, 'width'),
      height: num(item, 'height'),
      bytes: num(item, 'bytes'),
      sourceBytes: num(item, 'sourceBytes'),
      sha256: str(item, 'sha256'),
      readyAt: num(item, 'readyAt'),
      seq: num(item, 'seq'),
      anchor: str(item, 'anchor'),
      duplicateOf: str(item, 'duplicateOf'),
      generationId: str(item, 'generationId'),
      prompt: str(item, 'prompt'),
      originalKey: str(item, 'originalKey'),
      originalMime: str(item, 'originalMime'),
    },
  );
}
