// The session's bytes in the bucket: normalized images written, raw uploads read and removed.
// Size is checked from the object's metadata before a byte is read: the form's policy should
// have held it to the declared size, but nothing is read on the strength of that alone.
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

/** What reading a raw upload found. */
export type ObjectRead =
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'missing' }
  | { kind: 'too_large'; bytes: number };

/** Deletes run this many at a time: a session holds at most a few hundred objects. */
const DELETE_CONCURRENCY = 8;

function isNotFound(err: unknown): boolean {
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

export class ImageObjects {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async put(key: string, bytes: Buffer, contentType: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: bytes,
        ContentType: contentType,
        ContentLength: bytes.length,
      }),
    );
  }

  /** Size of an object, or undefined when it does not exist. */
  async size(key: string): Promise<number | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /**
   * Reads a whole object of at most `maxBytes`. The size is checked again on the GET itself,
   * since the object may have been replaced after a HEAD.
   */
  async read(key: string, maxBytes: number): Promise<ObjectRead> {
    let out: GetObjectCommandOutput;
    try {
      out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) return { kind: 'missing' };
      throw err;
    }
    const declared = out.ContentLength;
    if (declared !== undefined && declared > maxBytes) {
      // Closes the connection instead of downloading what we are about to refuse.
      (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
      return { kind: 'too_large', bytes: declared };
    }
    const bytes = Buffer.from((await out.Body?.transformToByteArray()) ?? new Uint8Array());
    if (bytes.length > maxBytes) return { kind: 'too_large', bytes: bytes.length };
    return { kind: 'bytes', bytes };
  }

  /** Removes an object; one that is already gone is not an error. */
  async delete(key: string): Promise<void> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /**
   * Removes every key, a few at a time. On the first failure no further key is started, and the
   * error is thrown only once every delete in flight has settled: a caller that answers "failed"
   * (a refused DELETE, 503) must not have deletes still retrying behind its answer, which would
   * remove a pending upload the client was just told is kept.
   */
  async deleteAll(keys: readonly string[]): Promise<void> {
    const queue = [...new Set(keys)];
    let failure: { error: unknown } | undefined;
    const worker = async () => {
      for (let key = queue.pop(); key !== undefined && !failure; key = queue.pop()) {
        try {
          await this.delete(key);
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, queue.length) }, worker));
    if (failure) throw failure.error;
  }
}
