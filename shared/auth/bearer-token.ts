// Reads `Authorization: Bearer <token>`; anything else in that header is refused as malformed.
import { AuthError } from '../errors';

export function bearerToken(headers: Readonly<Record<string, string>>): string {
  const value = headers.authorization;
  if (value === undefined || value.trim() === '') {
    throw new AuthError(
      'This API needs "Authorization: Bearer <token>" with a token from the sign-in provider.',
      'missing_token',
    );
  }
  const match = /^Bearer\s+([A-Za-z0-9_.~+/=-]+)\s*$/i.exec(value);
  if (!match) throw new AuthError('The Authorization header must be "Bearer <token>".', 'invalid_token');
  return match[1]!;
}
