// The checks S3 makes on a browser's POST upload against the form's signed policy, for the local
// emulator (s3rver accepts any POST). Pure: the form fields, the file's size and the time in,
// a verdict out. Signatures are not checked (the emulator accepts any credentials).
// Reference: https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html

export type PostPolicyVerdict =
  | { ok: true }
  | { ok: false; status: 400 | 403; code: string; message: string };

export interface PostUpload {
  /** The bucket named by the request path. */
  bucket: string;
  /** Every form field but the file, names as sent. */
  fields: ReadonlyArray<readonly [string, string]>;
  /** Bytes of the `file` field; undefined when the form carried no file. */
  fileSize: number | undefined;
  now: number;
}

/** Fields S3 does not require the policy to mention. */
const EXEMPT_FIELDS = new Set(['policy', 'x-amz-signature', 'file', 'awsaccesskeyid', 'signature']);

const denied = (message: string): PostPolicyVerdict => ({
  ok: false,
  status: 403,
  code: 'AccessDenied',
  message,
});

type Condition =
  | { kind: 'eq'; field: string; value: string }
  | { kind: 'starts-with'; field: string; prefix: string }
  | { kind: 'length'; min: number; max: number };

/** The policy's conditions in one shape; undefined when the policy is not one S3 would accept. */
function parseConditions(raw: unknown): Condition[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const out: Condition[] = [];
  for (const c of raw) {
    if (Array.isArray(c)) {
      const [op, a, b] = c as unknown[];
      if (op === 'content-length-range' && typeof a === 'number' && typeof b === 'number') {
        out.push({ kind: 'length', min: a, max: b });
      } else if ((op === 'eq' || op === 'starts-with') && typeof a === 'string' && a.startsWith('$')) {
        if (typeof b !== 'string') return undefined;
        const field = a.slice(1).toLowerCase();
        out.push(op === 'eq' ? { kind: 'eq', field, value: b } : { kind: 'starts-with', field, prefix: b });
      } else return undefined;
    } else if (c !== null && typeof c === 'object') {
      const entries = Object.entries(c as Record<string, unknown>);
      if (entries.length !== 1 || typeof entries[0]![1] !== 'string') return undefined;
      out.push({ kind: 'eq', field: entries[0]![0].toLowerCase(), value: entries[0]![1] as string });
    } else return undefined;
  }
  return out;
}

export function checkPostPolicy(upload: PostUpload): PostPolicyVerdict {
  // Form field names are case-insensitive to S3; the first of a repeated name counts.
  const fields = new Map<string, string>();
  for (const [name, value] of upload.fields) {
    const lower = name.toLowerCase();
    if (!fields.has(lower)) fields.set(lower, value);
  }
  fields.set('bucket', upload.bucket);
  const encoded = fields.get('policy');
  // The bucket is private: without a signed policy, no anonymous write.
  if (encoded === undefined) return denied('Access Denied');
  let policy: { expiration?: unknown; conditions?: unknown };
  try {
    policy = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as typeof policy;
  } catch {
    return {
      ok: false,
      status: 400,
      code: 'InvalidPolicyDocument',
      message: 'Invalid Policy: Invalid JSON.',
    };
  }
  const expires = typeof policy.expiration === 'string' ? Date.parse(policy.expiration) : Number.NaN;
  if (Number.isNaN(expires)) {
    return {
      ok: false,
      status: 400,
      code: 'InvalidPolicyDocument',
      message: 'Invalid Policy: Policy missing expiration.',
    };
  }
  if (expires <= upload.now) return denied('Invalid according to Policy: Policy expired.');
  const conditions = parseConditions(policy.conditions);
  if (!conditions) {
    return {
      ok: false,
      status: 400,
      code: 'InvalidPolicyDocument',
      message: 'Invalid Policy: Invalid conditions.',
    };
  }

  const covered = new Set<string>(['bucket']);
  for (const c of conditions) {
    if (c.kind === 'length') {
      const size = upload.fileSize ?? 0;
      if (size > c.max) {
        return {
          ok: false,
          status: 400,
          code: 'EntityTooLarge',
          message: 'Your proposed upload exceeds the maximum allowed size',
        };
      }
      if (size < c.min) {
        return {
          ok: false,
          status: 400,
          code: 'EntityTooSmall',
          message: 'Your proposed upload is smaller than the minimum allowed size',
        };
      }
      continue;
    }
    covered.add(c.field);
    const value = fields.get(c.field) ?? '';
    const holds = c.kind === 'eq' ? value === c.value : value.startsWith(c.prefix);
    if (!holds) {
      const shown =
        c.kind === 'eq'
          ? `["eq", "$${c.field}", "${c.value}"]`
          : `["starts-with", "$${c.field}", "${c.prefix}"]`;
      return denied(`Invalid according to Policy: Policy Condition failed: ${shown}`);
    }
  }
  for (const name of fields.keys()) {
    if (EXEMPT_FIELDS.has(name) || name.startsWith('x-ignore-') || covered.has(name)) continue;
    return denied(`Invalid according to Policy: Extra input fields: ${name}`);
  }
  if (upload.fileSize === undefined) {
    return {
      ok: false,
      status: 400,
      code: 'InvalidArgument',
      message: 'POST requires exactly one file upload per request.',
    };
  }
  return { ok: true };
}
