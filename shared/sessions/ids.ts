// Identifiers of sessions, images, image generations and ElevenLabs conversations. Every id that arrives from
// outside is checked against a strict pattern before it reaches a key, a path or a log line, so
// "../" and friends never get near DynamoDB or S3.
import { randomBytes } from 'node:crypto';

/** 128 random bits, base64url: 22 characters. */
const RANDOM_PART = '[A-Za-z0-9_-]{22}';
const SESSION_ID = new RegExp(`^s_${RANDOM_PART}$`);
const IMAGE_ID = new RegExp(`^img_${RANDOM_PART}$`);
const GENERATION_ID = new RegExp(`^gen_${RANDOM_PART}$`);
/** ElevenLabs documents no format; this admits its `conv_...` ids and nothing path-like. */
const CONVERSATION_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{5,127}$/;
/** A browser-chosen name for a place images replace each other in, e.g. "canvas" or "camera". */
const SLOT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function random128(): string {
  return randomBytes(16).toString('base64url');
}

export function newSessionId(): string {
  return `s_${random128()}`;
}

export function newImageId(): string {
  return `img_${random128()}`;
}

export function newGenerationId(): string {
  return `gen_${random128()}`;
}

export function isGenerationId(value: string): boolean {
  return GENERATION_ID.test(value);
}

export function isSessionId(value: string): boolean {
  return SESSION_ID.test(value);
}

export function isImageId(value: string): boolean {
  return IMAGE_ID.test(value);
}

export function isConversationId(value: string): boolean {
  return CONVERSATION_ID.test(value);
}

export function isSlot(value: string): boolean {
  return SLOT.test(value);
}
