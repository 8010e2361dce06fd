import { type Config, ConfigError } from "../core/config";

/** Helpers for the few HTML pages the Worker serves (the accept page and the development demo). */

export function escapeHtml(value: string): string {
  return value
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** JSON safe inside a `<script type="application/json">` block: `<` can never close the element. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll("<", "\\u003c")
    .replaceAll("\u2028", "\\u2028")
    .replaceAll("\u2029", "\\u2029");
}

/** A fresh CSP nonce per response: 16 random bytes, base64. */
export function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes));
}

/**
 * The development sign-in (paste a session token from `npm run dev:user`) exists only while Clerk
 * is not configured at all. The decision is made here, on the server: with either Clerk key set,
 * the pages contain no development sign-in code and /demo does not exist.
 */
export function devSignInEnabled(config: Config): boolean {
  return config.CLERK_PUBLISHABLE_KEY === undefined && config.CLERK_SECRET_KEY === undefined;
}

export interface ClerkFrontend {
  publishableKey: string;
  /** Clerk's Frontend API origin, which serves clerk-js and the UI bundle. */
  origin: string;
  clerkJsUrl: string;
  clerkUiUrl: string;
}

/**
 * A publishable key is `pk_test_` or `pk_live_` followed by base64 of the Frontend API host and a
 * `$`. clerk-js (and, since clerk-js 6, the separate UI bundle) load from that host, as Clerk's
 * own SDKs load them.
 */
export function clerkFrontend(publishableKey: string): ClerkFrontend {
  const match = /^pk_(?:test|live)_([A-Za-z0-9+/=_-]+)$/.exec(publishableKey);
  let host = "";
  try {
    host = match?.[1] ? atob(match[1].replaceAll("-", "+").replaceAll("_", "/")) : "";
  } catch {
    host = "";
  }
  if (!/^[a-z0-9.-]+\.[a-z]{2,}\$$/i.test(host)) {
    throw new ConfigError("CLERK_PUBLISHABLE_KEY is not a Clerk publishable key");
  }
  const origin = `https://${host.slice(0, -1).toLowerCase()}`;
  return {
    publishableKey,
    origin,
    clerkJsUrl: `${origin}/npm/@clerk/clerk-js@6/dist/clerk.browser.js`,
    clerkUiUrl: `${origin}/npm/@clerk/ui@1/dist/ui.browser.js`,
  };
}

/**
 * A strict policy: scripts only with this response's nonce (plus Clerk's host when configured),
 * no inline event handlers, no plugins, no framing, no base or form hijacking, and requests only
 * to this origin (and Clerk's). Clerk's UI injects its styles at run time, so style-src allows
 * inline styles only when Clerk is in use; otherwise styles carry the nonce too.
 */
export function contentSecurityPolicy(nonce: string, clerk: ClerkFrontend | null): string {
  const n = `'nonce-${nonce}'`;
  const directives: Record<string, string[]> = {
    "default-src": ["'none'"],
    "script-src": [n],
    "style-src": [n],
    "connect-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "base-uri": ["'none'"],
    "form-action": ["'none'"],
    "frame-ancestors": ["'none'"],
    "object-src": ["'none'"],
  };
  if (clerk !== null) {
    directives["script-src"]?.push(clerk.origin, "https://challenges.cloudflare.com");
    directives["style-src"] = ["'self'", "'unsafe-inline'"];
    directives["connect-src"]?.push(clerk.origin);
    directives["img-src"]?.push("https://img.clerk.com");
    directives["frame-src"] = ["https://challenges.cloudflare.com"];
    directives["worker-src"] = ["'self'", "blob:"];
  }
  return Object.entries(directives)
    .map(([name, values]) => `${name} ${values.join(" ")}`)
    .join("; ");
}

export function htmlResponse(html: string, csp: string): Response {
  return new Response(html, {
    status: 200,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": csp,
      "X-Frame-Options": "DENY",
      // Clerk's social sign-in may open a popup.
      "Cross-Origin-Opener-Policy": "same-origin-allow-popups",
    },
  });
}
