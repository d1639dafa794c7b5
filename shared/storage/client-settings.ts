// How the browser API's AWS SDK clients treat a slow or dead DynamoDB/S3, so that an outage
// answers 503 storage_unavailable within a bounded time instead of hanging until the function
// times out. (The chat function builds its own clients; unifying them is a separate change.)

/**
 * Per storage call: two attempts (one quick retry for a blip), each allowed 1 s to connect
 * (same-region endpoints connect in milliseconds) and 5 s until the response headers. Worst case
 * per call: 2 x (1 s + 5 s) plus the SDK's retry back-off (under 1 s), well inside the sessions
 * function's 15 s; an endpoint that accepts and never answers gives up after 10 s. A refused
 * connection (the usual shape of an outage) answers in milliseconds.
 */
export const BROWSER_STORAGE_CLIENT_SETTINGS = {
  maxAttempts: 2,
  requestHandler: {
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    // Without it the SDK only warns when requestTimeout passes and keeps waiting.
    throwOnRequestTimeout: true,
  },
} as const;
