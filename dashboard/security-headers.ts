/**
 * The headers every dashboard file is served with, by the local server
 * (functions/src/local/static-files.ts) and on AWS (infra/dashboard.ts): scripts and styles
 * only from this origin and never inline, never framed, no MIME sniffing. Plain data, so
 * both sides import the one copy.
 */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
};
