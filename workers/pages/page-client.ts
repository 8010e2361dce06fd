/**
 * What the accept page (/invite) and the join page (/join) scripts share: the config, reading the
 * token from the URL fragment into this tab's sessionStorage (under the page's own TOKEN_KEY,
 * declared before this code), the JSON fetch helper and date formatting.
 *
 * Plain ES2020 in a string: no backticks and no template placeholders inside.
 */
// biome-ignore lint/complexity/noUselessStringRaw: browser code stays verbatim even when it gains a backslash.
export const PAGE_CLIENT_JS = String.raw`
var config = JSON.parse(document.getElementById("roster-config").textContent);
var $ = function (id) { return document.getElementById(id); };

function takeToken() {
  var match = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (match) {
    try { sessionStorage.setItem(TOKEN_KEY, match[1]); } catch (e) { /* memory only */ }
    history.replaceState(history.state, "", location.pathname + location.search);
    return match[1];
  }
  try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
}

function forgetToken() {
  try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* nothing stored */ }
}

async function api(method, path, body, sessionToken) {
  var headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (sessionToken) headers.Authorization = "Bearer " + sessionToken;
  var res = await fetch(path, {
    method: method,
    headers: headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store"
  });
  var data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  return { status: res.status, ok: res.ok, data: data || {} };
}

function formatDate(iso) {
  var d = new Date(iso);
  return isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: "long", timeStyle: "short" });
}
`;
