import type { Config } from "../core/config";
import { authMode, authScript } from "./accept-page";
import { escapeHtml, jsonForScript } from "./html";
import { JOIN_CLIENT_JS } from "./join-client";
import { PAGE_CSS } from "./styles";

/** GET /join: the page a platform invitation email links to (`/join#token=…`). */
export function joinPageHtml(config: Config, nonce: string): string {
  const { mode, clerk } = authMode(config);
  const pageConfig = {
    mode,
    appUrl: config.APP_URL,
    productName: config.PRODUCT_NAME,
    clerk: clerk && {
      publishableKey: clerk.publishableKey,
      clerkJsUrl: clerk.clerkJsUrl,
      clerkUiUrl: clerk.clerkUiUrl,
    },
  };
  const n = escapeHtml(nonce);
  const product = escapeHtml(config.PRODUCT_NAME);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>Join ${product}</title>
<style nonce="${n}">${PAGE_CSS}</style>
</head>
<body>
<main>
  <div class="card">
    <p class="brand">${product}</p>
    <h1 id="headline">Your invitation</h1>
    <dl id="details" hidden>
      <dt>Invited by</dt><dd id="d-inviter"></dd>
      <dt>Sent to</dt><dd id="d-email"></dd>
      <dt id="d-expires-label">Expires</dt><dd id="d-expires"></dd>
    </dl>
    <div id="auth"></div>
    <div id="message" class="message" role="status" aria-live="polite"></div>
    <div id="actions" class="row" hidden>
      <button type="button" id="accept" class="primary">Accept invitation</button>
    </div>
    <p id="onward" hidden><a id="onward-link" class="button primary" href="${escapeHtml(config.APP_URL)}">Continue</a></p>
  </div>
</main>
<script type="application/json" id="roster-config">${jsonForScript(pageConfig)}</script>
<script nonce="${n}">
"use strict";
(function () {
${authScript(mode)}
${JOIN_CLIENT_JS}
})();
</script>
</body>
</html>
`;
}
