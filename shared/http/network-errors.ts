// Which error codes mean "the exchange with a server failed on the network": socket, DNS, TLS and
// undici failures. One list for every caller that must tell those apart from its own bugs (the
// upstream classification, the storage fault classification).

const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
  'EPROTO',
]);
const NETWORK_ERROR_CODE_PATTERN = /^(UND_ERR_|ERR_TLS_|ERR_SSL_|HPE_)|CERT|SELF_SIGNED/;

/** True for a Node or undici error code of a failed network exchange. */
export function isNetworkErrorCode(code: string): boolean {
  return NETWORK_ERROR_CODES.has(code) || NETWORK_ERROR_CODE_PATTERN.test(code);
}
