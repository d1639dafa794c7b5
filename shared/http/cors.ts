// The browser API's CORS policy (sessions and uploads): one list, used by the deployed function
// URLs' CORS configuration (infra/stack.ts) and by the local dev server, which answers CORS
// itself (infra/local/dev-app.ts). Chat is server to server and has none.

/** Request headers browsers send: JSON bodies, a JWT, a session's secret. */
export const BROWSER_CORS_HEADERS = ['content-type', 'authorization', 'x-session-secret'] as const;
export const BROWSER_CORS_METHODS = ['GET', 'POST', 'DELETE'] as const;
/** How long a browser may cache a preflight answer. */
export const BROWSER_CORS_MAX_AGE_SECONDS = 3600;
