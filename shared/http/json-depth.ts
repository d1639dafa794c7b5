// Bounds how deeply a parsed JSON body may nest. Deep values are harmless to JSON.parse (V8
// parses iteratively) but overflow the stack of everything recursive after it: validation,
// request transforms, the SDKs' serialization. Checked with an explicit stack, never recursion.

/** Deepest nesting of objects and arrays a request body may have; the body itself is level 1. */
export const MAX_JSON_DEPTH = 64;

/** Longest key kept in a reported path; a longer one is cut, so an error never echoes a huge key. */
const MAX_KEY_IN_PATH = 64;

interface Frame {
  value: unknown;
  depth: number;
  key: string | number | null;
  parent: Frame | null;
}

/** `a.b[0].c` for the keys from the root to `frame`. */
function pathOf(frame: Frame): string {
  const keys: (string | number)[] = [];
  for (let f: Frame | null = frame; f !== null; f = f.parent) if (f.key !== null) keys.push(f.key);
  return keys
    .reverse()
    .map((k, i) => {
      if (typeof k === 'number') return `[${k}]`;
      const key = k.length > MAX_KEY_IN_PATH ? `${k.slice(0, MAX_KEY_IN_PATH)}...` : k;
      return i === 0 ? key : `.${key}`;
    })
    .join('');
}

/**
 * The path of the first object or array nested deeper than `limit` levels (the root being
 * level 1), or null when the value stays within it. Visits each node once.
 */
export function tooDeepPath(root: unknown, limit = MAX_JSON_DEPTH): string | null {
  if (root === null || typeof root !== 'object') return null;
  const stack: Frame[] = [{ value: root, depth: 1, key: null, parent: null }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const { value, depth } = frame;
    if (depth > limit) return pathOf(frame);
    // Only objects and arrays are stacked: strings (base64 images) and numbers cost nothing.
    const push = (child: unknown, key: string | number) => {
      if (child !== null && typeof child === 'object')
        stack.push({ value: child, depth: depth + 1, key, parent: frame });
    };
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) push(value[i], i);
    } else {
      const keys = Object.keys(value as object);
      for (let i = keys.length - 1; i >= 0; i--) push((value as Record<string, unknown>)[keys[i]!], keys[i]!);
    }
  }
  return null;
}
