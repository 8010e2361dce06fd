import { PAGE_CLIENT_JS } from "./page-client";

/**
 * The /join page's script (platform invitations). Like the accept page: the token is read from the
 * URL fragment, removed from the address bar at once, kept in this tab's sessionStorage until the
 * invitation is settled (a sign-in may leave the page), and sent only in the JSON bodies of
 * POST /v1/platform/invitations/preview and /accept.
 *
 * Plain ES2020 in a string: no backticks, and no template placeholder but the shared PAGE_CLIENT_JS.
 */
// biome-ignore lint/complexity/noUselessStringRaw: browser code stays verbatim even when it gains a backslash.
export const JOIN_CLIENT_JS = String.raw`
var TOKEN_KEY = "roster.join-token";
${PAGE_CLIENT_JS}

var token = takeToken();
var preview = null;
var auth = null;
var busy = false;
var product = config.productName;

function inviter() {
  return preview && preview.invitedBy && preview.invitedBy.name ? preview.invitedBy.name : "the person who invited you";
}

function say(kind, text, extra) {
  var box = $("message");
  box.className = "message " + kind;
  var p = document.createElement("p");
  p.textContent = text;
  box.replaceChildren(p);
  (extra || []).forEach(function (node) { box.append(node); });
}

function button(id, text, onClick, primary) {
  var b = document.createElement("button");
  b.type = "button";
  b.id = id;
  b.textContent = text;
  if (primary) b.className = "primary";
  b.addEventListener("click", onClick);
  return b;
}

function finished() {
  forgetToken();
  $("actions").hidden = true;
}

function onward(text) {
  $("onward-link").textContent = text;
  $("onward").hidden = false;
}

/** One human message per refusal API.md lists for accepting (and per status on preview). */
function explain(code, problem) {
  switch (code) {
    case "expired":
    case "INVITE_EXPIRED":
      finished();
      say("error", "This invitation expired on " + formatDate(preview.expiresAt) + ". Ask " + inviter() +
        " to send you a new one.");
      return;
    case "revoked":
    case "INVITE_REVOKED":
      finished();
      say("error", "This invitation was withdrawn. If you think that is a mistake, contact " + inviter() + ".");
      return;
    case "accepted":
    case "INVITE_ALREADY_ACCEPTED":
      finished();
      say("ok", "This invitation has already been accepted.");
      onward("Go to " + product);
      return;
    case "INVITE_NOT_FOUND":
      finished();
      say("error", "This invitation link is no longer valid. It may have been replaced by a newer one: check your " +
        "email for the latest invitation, or ask " + inviter() + " to send it again.");
      return;
    case "INVITE_EMAIL_MISMATCH":
      say("error", "This invitation was sent to " + preview.emailHint + ", but you are signed in as " +
        (auth.label() || "another account") + ". Sign in with the account for " + preview.emailHint +
        " to accept it.", [button("switch-account", "Switch account", function () { auth.switchAccount(); })]);
      return;
    case "EMAIL_NOT_VERIFIED":
      say("error", "Your address " + preview.emailHint + " is not verified yet. Verify it in your account settings, " +
        "then try again.");
      return;
    case "SIGNUP_CAP_REACHED":
      say("error", product + " is full for now: every place in the beta is taken. Your invitation stays valid " +
        "until " + formatDate(preview.expiresAt) + "; try again later.");
      return;
    case "UNAUTHENTICATED":
      say("error", "Your session has ended. Sign in again to continue.");
      auth.signIn();
      return;
    case "RATE_LIMITED":
      say("error", "Too many attempts from your network. Wait a minute and try again.");
      return;
    default:
      say("error", "Something went wrong" + (problem && problem.requestId ? " (request " + problem.requestId + ")" : "") +
        ". Try again; if it keeps failing, contact " + inviter() + ".");
  }
}

function showDetails() {
  $("headline").textContent = preview.status === "pending" ? "Join " + product : "Invitation to " + product;
  $("d-inviter").textContent = preview.invitedBy && preview.invitedBy.name ? preview.invitedBy.name : "Someone";
  $("d-email").textContent = preview.emailHint;
  $("d-expires").textContent = formatDate(preview.expiresAt);
  if (new Date(preview.expiresAt).getTime() <= Date.now()) $("d-expires-label").textContent = "Expired";
  $("details").hidden = false;
}

function refreshActions() {
  if (!auth || !preview || preview.status !== "pending" || busy) return;
  var signedIn = !!auth.label();
  $("actions").hidden = !signedIn;
  if (signedIn) say("info", "Accept to join " + product + ".");
  else {
    say("info", "Sign in or create your account to accept this invitation.",
      config.mode === "clerk" ? [button("sign-in", "Sign in", function () { auth.signIn(); }, true)] : []);
  }
}

async function accept() {
  if (busy) return;
  busy = true;
  $("accept").setAttribute("aria-disabled", "true");
  say("info", "Accepting…");
  try {
    var res = await api("POST", "/v1/platform/invitations/accept", { token: token }, await auth.getToken());
    if (res.ok) {
      finished();
      say("ok", "Welcome to " + product + "! Your account is active.");
      onward("Continue to " + product);
      $("onward-link").focus();
    } else {
      explain(res.data.code, res.data);
    }
  } catch (e) {
    say("error", "Could not reach the server. Check your connection and try again.");
  } finally {
    busy = false;
    $("accept").removeAttribute("aria-disabled");
  }
}

async function main() {
  $("accept").addEventListener("click", accept);
  if (!token) {
    say("error", "This link is incomplete. Open the link in your invitation email again, exactly as it was sent.");
    return;
  }
  say("info", "Loading your invitation…");
  var res;
  try {
    res = await api("POST", "/v1/platform/invitations/preview", { token: token });
  } catch (e) {
    say("error", "Could not reach the server. Check your connection and reload the page.");
    return;
  }
  if (!res.ok) {
    preview = { invitedBy: null };
    explain(res.data.code, res.data);
    return;
  }
  preview = res.data;
  showDetails();
  if (preview.status !== "pending") {
    explain(preview.status);
    return;
  }
  try {
    auth = await createAuth($("auth"), refreshActions, config);
  } catch (e) {
    say("error", "Sign-in could not be loaded. Reload the page to try again.");
    return;
  }
  refreshActions();
}

main();
`;
