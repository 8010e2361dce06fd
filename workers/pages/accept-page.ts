import type { Config } from "../core/config";
import { ACCEPT_CLIENT_JS } from "./accept-client";
import { CLERK_AUTH_JS, DEV_AUTH_JS, NO_AUTH_JS } from "./auth-client";
import { type ClerkFrontend, clerkFrontend, devSignInEnabled, escapeHtml, jsonForScript } from "./html";
import { PAGE_CSS } from "./styles";

export type AuthMode = "clerk" | "dev" | "none";

/** How the pages sign users in: Clerk when its publishable key is set; development sign-in only without any Clerk key. */
export function authMode(config: Config): { mode: AuthMode; clerk: ClerkFrontend | null } {
  if (config.CLERK_PUBLISHABLE_KEY !== undefined) {
    return { mode: "clerk", clerk: clerkFrontend(config.CLERK_PUBLISHABLE_KEY) };
  }
  return { mode: devSignInEnabled(config) ? "dev" : "none", clerk: null };
}

export function authScript(mode: AuthMode): string {
  return mode === "clerk" ? CLERK_AUTH_JS : mode === "dev" ? DEV_AUTH_JS : NO_AUTH_JS;
}

/** GET /invite: the page an invite email links to (`/invite#token=…`). */
export function acceptPageHtml(config: Config, nonce: string): string {
  const { mode, clerk } = authMode(config);
  const pageConfig = {
    mode,
    appUrl: config.APP_URL,
    clerk: clerk && {
      publishableKey: clerk.publishableKey,
      clerkJsUrl: clerk.clerkJsUrl,
      clerkUiUrl: clerk.clerkUiUrl,
    },
  };
  const n = escapeHtml(nonce);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>Accept your invitation · Roster</title>
<style nonce="${n}">${PAGE_CSS}</style>
</head>
<body>
<main>
  <div class="card">
    <p class="brand">Roster</p>
    <h1 id="headline">Your invitation</h1>
    <dl id="details" hidden>
      <dt>Organization</dt><dd id="d-org"></dd>
      <dt id="d-project-row">Project</dt><dd id="d-project-value"><span id="d-project"></span></dd>
      <dt>Role</dt><dd id="d-role"></dd>
      <dt>Invited by</dt><dd id="d-inviter"></dd>
      <dt>Sent to</dt><dd id="d-email"></dd>
      <dt id="d-expires-label">Expires</dt><dd id="d-expires"></dd>
    </dl>
    <div id="auth"></div>
    <div id="message" class="message" role="status" aria-live="polite"></div>
    <div id="actions" class="row" hidden>
      <button type="button" id="accept" class="primary">Accept invitation</button>
      <button type="button" id="decline">Decline</button>
    </div>
    <p id="onward" hidden><a id="onward-link" class="button primary" href="${escapeHtml(config.APP_URL)}">Continue</a></p>
  </div>
</main>
<script type="application/json" id="roster-config">${jsonForScript(pageConfig)}</script>
<script nonce="${n}">
"use strict";
(function () {
${authScript(mode)}
${ACCEPT_CLIENT_JS}
})();
</script>
</body>
</html>
`;
}
