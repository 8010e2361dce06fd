import { DEV_AUTH_JS } from "./auth-client";
import { escapeHtml } from "./html";
import { PAGE_CSS } from "./styles";

const DEMO_CLIENT_JS = String.raw`
var banner = document.querySelector("roster-invites");
var panel = document.querySelector("roster-organization");
var orgSelect = document.getElementById("org");
var events = document.getElementById("events");
["roster:accepted", "roster:declined", "roster:changed", "roster:error"].forEach(function (type) {
  document.addEventListener(type, function (event) {
    var li = document.createElement("li");
    var detail = event.detail || {};
    var invite = detail.invite && detail.invite.organization ? detail.invite : null;
    li.textContent = type + (detail.action ? " " + detail.action : "") +
      (invite ? " \u2014 " + invite.organization.name + " (" + invite.id + ")" : "") +
      (detail.message ? ": " + detail.message : "");
    events.prepend(li);
    document.getElementById("events-section").hidden = false;
    // Joining or leaving changes which organizations the panel can show.
    if (type === "roster:accepted" || (type === "roster:changed" && detail.action === "member.left")) loadOrganizations();
  });
});
var authReady = null;
async function loadOrganizations() {
  var auth = await authReady;
  var token = auth ? await auth.getToken() : null;
  var orgs = [];
  if (token) {
    var res = await fetch("/v1/me", { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
    if (res.ok) orgs = (await res.json()).organizations;
  }
  var current = orgSelect.value;
  orgSelect.replaceChildren();
  orgs.forEach(function (org) {
    var option = document.createElement("option");
    option.value = org.id;
    option.textContent = org.name + " (" + org.role + ")";
    option.selected = org.id === current;
    orgSelect.append(option);
  });
  document.getElementById("panel-section").hidden = orgs.length === 0;
  if (orgs.length > 0) panel.setAttribute("org-id", orgSelect.value);
}
orgSelect.addEventListener("change", function () {
  panel.setAttribute("org-id", orgSelect.value);
});
document.getElementById("undismiss").addEventListener("click", function () {
  try { sessionStorage.removeItem("roster-invites:dismissed"); } catch (e) { /* nothing stored */ }
  banner.refresh();
});
authReady = createAuth(document.getElementById("auth"), function () {
  banner.refresh();
  loadOrganizations();
}).then(function (auth) {
  banner.getToken = auth.getToken;
  panel.getToken = auth.getToken;
  return auth;
});
loadOrganizations();
`;

/**
 * GET /demo (development only): the `<roster-invites>` banner and, for an organization the signed-in
 * user belongs to, the `<roster-organization>` admin panel, with the development sign-in.
 */
export function demoPageHtml(nonce: string): string {
  const n = escapeHtml(nonce);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>Components demo · Roster (development)</title>
<style nonce="${n}">${PAGE_CSS}
main { max-width: 60rem; }
roster-invites { margin: 0 0 1.5rem; }
.card + .card { margin-top: 1.5rem; }
select { font: inherit; padding: .3rem; }
</style>
</head>
<body>
<main>
  <roster-invites></roster-invites>
  <div class="card">
    <p class="brand">Roster · development demo</p>
    <h1>The &lt;roster-invites&gt; banner and the &lt;roster-organization&gt; panel</h1>
    <p>This page hosts Roster's components as a product would. Sign in below (a token from
    <code>npm run dev:user</code>): the banner above lists your pending invites and accepts or declines each one;
    the admin panel below manages an organization you belong to.</p>
    <div id="auth"></div>
    <p class="row"><button type="button" id="undismiss">Show dismissed invites again</button></p>
    <section id="events-section" hidden>
      <h2>Events</h2>
      <ul id="events"></ul>
    </section>
  </div>
  <div class="card" id="panel-section" hidden>
    <label for="org">Organization</label>
    <p class="row"><select id="org"></select></p>
    <roster-organization></roster-organization>
  </div>
</main>
<script nonce="${n}" src="/roster-invites.js"></script>
<script nonce="${n}" src="/roster-organization.js"></script>
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
