// How the app words a failure for people: the server's own reason and its code, never a stack.
import { isVisionApiError } from '../../client';

export function describeError(err: unknown): string {
  if (isVisionApiError(err)) return `${err.message} (${err.code})`;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** getUserMedia's refusals, in words a person can act on. */
export function describeMediaError(err: unknown, what: 'microphone' | 'camera'): string {
  const name = err instanceof DOMException ? err.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError')
    return `Access to the ${what} was refused. Allow it in the browser's site settings (the icon left of the address) and try again${what === 'microphone' ? ', or type your messages instead' : ''}.`;
  if (name === 'NotFoundError' || name === 'OverconstrainedError')
    return `No ${what} was found on this device.`;
  if (name === 'NotReadableError') return `The ${what} is in use by another application.`;
  return `The ${what} could not be started: ${err instanceof Error ? err.message : String(err)}`;
}
