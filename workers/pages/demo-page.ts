import { DEV_AUTH_JS } from "./auth-client";
import { escapeHtml } from "./html";
import { PAGE_CSS } from "./styles";

const DEMO_CLIENT_JS = String.raw`
var banner = document.querySelector("roster-invites");
var events = document.getElementById("events");
["roster:accepted", "roster:declined", "roster:error"].forEach(function (type) {
  document.addEventListener(type, function (event) {
    var li = document.createElement("li");
    var invite = event.detail && event.detail.invite;
    li.textContent = type + (invite ? " \u2014 " + invite.organization.name + " (" + invite.id + ")" : "") +
      (event.detail && event.detail.message ? ": " + event.detail.message : "");
    events.prepend(li);
    document.getElementById("events-section").hidden = false;
  });
});
document.getElementById("undismiss").addEventListener("click", function () {
  try { sessionStorage.removeItem("roster-invites:dismissed"); } catch (e) { /* nothing stored */ }
  banner.refresh();
});
createAuth(document.getElementById("auth"), function () { banner.refresh(); }).then(function (auth) {
  banner.getToken = auth.getToken;
});
`;

/** GET /demo (development only): the `<roster-invites>` banner with the development sign-in. */
export function demoPageHtml(nonce: string): string {
  const n = escapeHtml(nonce);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>Banner demo · Roster (development)</title>
<style nonce="${n}">${PAGE_CSS}
roster-invites { margin: 0 0 1.5rem; }
</style>
</head>
<body>
<main>
  <roster-invites></roster-invites>
  <div class="card">
    <p class="brand">Roster · development demo</p>
    <h1>The &lt;roster-invites&gt; banner</h1>
    <p>This page hosts the sign-in banner as a product would. Sign in below as someone with pending
    invites (create them with the API, signed in as an inviter from <code>npm run dev:user</code>); the banner above
    lists them and accepts or declines each one.</p>
    <div id="auth"></div>
    <p class="row"><button type="button" id="undismiss">Show dismissed invites again</button></p>
    <section id="events-section" hidden>
      <h2>Events</h2>
      <ul id="events"></ul>
    </section>
  </div>
</main>
<script nonce="${n}" src="/roster-invites.js"></script>
<script nonce="${n}">
"use strict";
(function () {
${DEV_AUTH_JS}
${DEMO_CLIENT_JS}
})();
</script>
</body>
</html>
`;
}
