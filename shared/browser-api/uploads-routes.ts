// The uploads API browsers call to add images to a session: a presigned S3 form for files
// (then `.../complete`), or a server-side fetch of an image URL, or a small inline data URI;
// and to remove one image again.
// Host-neutral: mounted on a Router by the Lambda entry and by the local dev server.
import { z } from 'zod';
import { ValidationError } from '../errors';
import type { Router } from '../http/router';
import { type HttpRequest, type HttpResponse, jsonResponse } from '../http/types';
import { parseDataUri } from '../images/data-uri';
import { ImageRejectedError, imageTooLarge } from '../images/errors';
import { normalizeImage } from '../images/normalize';
import { fetchImageSafely } from '../images/safe-fetch';
import { imageNotFound, invalidImageId } from '../sessions/errors';
import { isImageId, isSlot, newImageId } from '../sessions/ids';
import { rawUploadKey } from '../sessions/object-keys';
import { parseJsonBody } from '../sessions/request-body';
import { completeUpload } from '../uploads/complete-upload';
import { addWholeImage } from '../uploads/ingest';
import { createUploadForm, isUploadContentType, UPLOAD_CONTENT_TYPES } from '../uploads/upload-form';
import type { BrowserApiDeps } from './deps';

export type UploadsRoutesDeps = Pick<
  BrowserApiDeps,
  'config' | 'store' | 'objects' | 's3' | 'guard' | 'urlFetch' | 'storageFaults' | 'log' | 'now'
>;

const slot = z
  .string()
  .refine(isSlot, 'must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit')
  .optional();

/** Exactly one of contentType (upload form), url (server fetch) or data (inline data URI). */
const addImageBody = z
  .object({
    contentType: z.string().optional(),
    contentLength: z
      .number()
      .int('must be a whole number of bytes')
      .positive('must be at least 1')
      .optional(),
    url: z.string().max(8192, 'must be at most 8192 characters').optional(),
    data: z.string().optional(),
    slot,
  })
  .refine(
    (b) => [b.contentType, b.url, b.data].filter((v) => v !== undefined).length === 1,
    'send exactly one of "contentType" (to get an upload form), "url" (to fetch an image) or "data" (a data: URI)',
  );

type AddImageBody = z.infer<typeof addImageBody>;

const NO_STORE = { 'cache-control': 'no-store' } as const;

export function createUploadsRoutes(router: Router, deps: UploadsRoutesDeps): Router {
  const { config, store, objects, guard, log, storageFaults } = deps;
  // An inline image arrives base64-encoded inside JSON: 4/3 of its size, plus a little.
  const maxBodyBytes = Math.ceil((config.maxInlineBytes * 4) / 3) + 64 * 1024;

  async function issueUploadForm(sessionId: string, body: AddImageBody): Promise<HttpResponse> {
    const contentType = body.contentType!.trim().toLowerCase();
    if (!isUploadContentType(contentType)) {
      throw new ImageRejectedError(
        'unsupported_image_format',
        `Uploads must declare one of ${UPLOAD_CONTENT_TYPES.join(', ')}; got "${contentType.slice(0, 100)}".`,
        { param: 'contentType' },
      );
    }
    // The form admits exactly this many bytes, so it must be known before the form exists.
    if (body.contentLength === undefined) {
      throw new ValidationError(
        'Upload forms need "contentLength": the exact size of the file in bytes (File.size).',
        'contentLength',
        'content_length_required',
      );
    }
    if (body.contentLength > config.maxUploadBytes) {
      throw imageTooLarge(body.contentLength, config.maxUploadBytes);
    }
    const imageId = newImageId();
    const key = rawUploadKey(sessionId, imageId);
    await store.putPendingImage({
      sessionId,
      imageId,
      source: 'upload',
      rawKey: key,
      declaredType: contentType,
      declaredBytes: body.contentLength,
      ...(body.slot !== undefined ? { slot: body.slot } : {}),
    });
    const form = await createUploadForm(deps.s3, {
      bucket: objects.bucket,
      key,
      contentType,
      bytes: body.contentLength,
      now: deps.now(),
    });
    return jsonResponse(
      201,
      {
        imageId,
        status: 'pending',
        upload: { url: form.url, fields: form.fields },
        expiresAt: new Date(form.expiresAt).toISOString(),
        maxBytes: config.maxUploadBytes,
      },
      NO_STORE,
    );
  }

  /** URL and inline images: verified and normalized before anything is stored, so a refusal leaves no trace. */
  async function ingestBytes(
    sessionId: string,
    bytes: Buffer,
    source: 'url' | 'inline',
    body: AddImageBody,
  ): Promise<HttpResponse> {
    const normalized = await normalizeImage(bytes, config.imageLimits);
    const result = await addWholeImage(
      { store, objects, log },
      { sessionId, source, normalized, ...(body.slot !== undefined ? { slot: body.slot } : {}) },
    );
    return jsonResponse(result.deduplicatedFrom ? 200 : 201, result, NO_STORE);
  }

  async function addImage(req: HttpRequest, params: Record<string, string>): Promise<HttpResponse> {
    const { session } = await guard.admitToSession(req, params.sessionId!, 'create_image');
    const body = parseJsonBody(req, addImageBody, { maxBytes: maxBodyBytes });
    if (body.contentType !== undefined) return issueUploadForm(session.sessionId, body);
    if (body.url !== undefined) {
      const fetched = await fetchImageSafely(body.url, { maxBytes: config.maxUploadBytes, ...deps.urlFetch });
      return ingestBytes(session.sessionId, fetched.bytes, 'url', body);
    }
    if (body.data !== undefined) {
      const { bytes } = parseDataUri(body.data, config.maxInlineBytes);
      return ingestBytes(session.sessionId, bytes, 'inline', body);
    }
    throw new ValidationError('Send "contentType", "url" or "data".');
  }

  async function complete(req: HttpRequest, params: Record<string, string>): Promise<HttpResponse> {
    // Before any I/O: a path-like image id never reaches a key.
    if (!isImageId(params.imageId!)) throw invalidImageId();
    const { session } = await guard.admitToSession(req, params.sessionId!, 'session_call');
    const result = await completeUpload(
      { store, objects, log, maxUploadBytes: config.maxUploadBytes, imageLimits: config.imageLimits },
      session.sessionId,
      params.imageId!,
    );
    return jsonResponse(200, result, NO_STORE);
  }

  async function removeImage(req: HttpRequest, params: Record<string, string>): Promise<HttpResponse> {
    if (!isImageId(params.imageId!)) throw invalidImageId();
    const { session } = await guard.admitToSession(req, params.sessionId!, 'session_call');
    if (!(await store.deleteImage(session.sessionId, params.imageId!))) throw imageNotFound();
    log.info('image removed', { sessionId: session.sessionId, imageId: params.imageId });
    return { status: 204, headers: { ...NO_STORE }, body: '' };
  }

  return router
    .on('POST', '/sessions/:sessionId/images', (req, params) =>
      storageFaults.run('POST /sessions/{id}/images', () => addImage(req, params)),
    )
    .on('DELETE', '/sessions/:sessionId/images/:imageId', (req, params) =>
      storageFaults.run('DELETE /sessions/{id}/images/{imageId}', () => removeImage(req, params)),
    )
    .on('POST', '/sessions/:sessionId/images/:imageId/complete', (req, params) =>
      storageFaults.run('POST /sessions/{id}/images/{imageId}/complete', () => complete(req, params)),
    );
}
