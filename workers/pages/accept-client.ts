import { PAGE_CLIENT_JS } from "./page-client";

/**
 * The accept page's script. Two kinds of link land here:
 *
 * - `/invite#token=…` (Roster's own email): see below.
 * - `/invite?invite={id}` (Clerk's invitation email, EMAIL_PROVIDER=clerk), with
 *   `__clerk_ticket` and `__clerk_status` when Clerk sends the invitee here after its ticket
 *   link: the ticket sign-up or sign-in is completed with Clerk's frontend SDK (auth.completeTicket),
 *   the ticket is dropped from the address bar, and the invite is accepted or declined by id. A
 *   user who is already signed in skips the ticket.
 *
 * It reads the invite token from the URL fragment (never sent to any
 * server by the browser), removes it from the address bar at once, and sends it only in the JSON
 * bodies of POST /v1/invites/preview and POST /v1/invites/accept. Until the invite is settled the
 * token stays in this tab's sessionStorage, so a sign-in that leaves the page (an OAuth redirect)
 * can come back to it.
 *
 * Plain ES2020 in a string: no backticks, and no template placeholder but the shared PAGE_CLIENT_JS.
 */
// biome-ignore lint/complexity/noUselessStringRaw: browser code stays verbatim even when it gains a backslash.
export const ACCEPT_CLIENT_JS = String.raw`
var TOKEN_KEY = "roster.invite-token";
${PAGE_CLIENT_JS}

var ORG_ROLES = { owner: "Owner", director: "Director", manager: "Manager", member: "Member", guest: "Guest" };
var PROJECT_ROLES = { admin: "Admin", editor: "Editor", viewer: "Viewer" };

/** ?invite={id}, the Clerk invitation's redirect; null when the page was opened with a token. */
function takeInviteLink() {
  var params = new URLSearchParams(location.search);
  var id = params.get("invite");
  if (!id || !/^[A-Za-z0-9_-]{1,100}$/.test(id)) return null;
  return { id: id, ticket: params.get("__clerk_ticket"), status: params.get("__clerk_status") };
}

/** Keeps only ?invite= in the address bar: the ticket is single-use, and out of history and bookmarks. */
function dropTicket() {
  history.replaceState(history.state, "", location.pathname + "?invite=" + encodeURIComponent(link.id));
}

var token = takeToken();
var link = token ? null : takeInviteLink();
var preview = null;
var auth = null;
var busy = false;

function inviter() {
  return preview && preview.invitedBy && preview.invitedBy.name ? preview.invitedBy.name : "the person who invited you";
}
function scope() {
  return preview.project ? preview.organization.name + " / " + preview.project.name : preview.organization.name;
}

/** Shows a message: kind is "info", "ok" or "error"; extra nodes (buttons, links) follow the text. */
function say(kind, text, extra) {
  var box = $("message");
  box.className = "message " + kind;
  var p = document.createElement("p");
  p.textContent = text;
  box.replaceChildren(p);
  (extra || []).forEach(function (node) { box.append(node); });
}

function onward(text) {
  var link = $("onward-link");
  link.textContent = text || "Continue to the app";
  $("onward").hidden = false;
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

/** One human message per outcome in API.md's accept list (and the invite's status on preview). */
function explain(code, problem) {
  switch (code) {
    case "expired":
    case "INVITE_EXPIRED":
      finished();
      say("error", "This invite expired" + (preview.expiresAt ? " on " + formatDate(preview.expiresAt) : "") +
        ". Ask " + inviter() + " to send you a new invite.");
      return;
    case "revoked":
    case "INVITE_REVOKED":
      finished();
      say("error", "This invite was withdrawn by " + scope() + ". If you think that is a mistake, contact " +
        inviter() + ".");
      return;
    case "declined":
    case "INVITE_DECLINED":
      finished();
      say("error", "This invite was declined, so it can no longer be used. Ask " + inviter() +
        " for a new invite if you changed your mind.");
      return;
    case "accepted":
    case "INVITE_ALREADY_ACCEPTED":
      finished();
      say("ok", "This invite has already been accepted.");
      onward("Go to the app");
      return;
    case "INVITE_NOT_FOUND":
      if (link) {
        say("error", "No invitation with this link is addressed to " + (auth.label() || "your account") +
          ". It may have been withdrawn or replaced by a newer one; if it was sent to another address, sign in " +
          "with that address.", [button("switch-account", "Switch account", function () { auth.switchAccount(); })]);
        return;
      }
      finished();
      say("error", "This invite link is no longer valid. It may have been replaced by a newer invite: check your " +
        "email for the latest one, or ask " + inviter() + " to send it again.");
      return;
    case "INVITE_EMAIL_MISMATCH":
      say("error", "This invite was sent to " + preview.emailHint + ", but you are signed in as " +
        (auth.label() || "another account") + ". Sign in with the account for " + preview.emailHint +
        " to accept it.", [button("switch-account", "Switch account", function () { auth.switchAccount(); })]);
      return;
    case "EMAIL_NOT_VERIFIED":
      say("error", "Your address " + preview.emailHint + " is not verified yet. Verify it in your account settings " +
        "(look for the verification email), then try again.");
      return;
    case "SEAT_LIMIT_REACHED":
      say("error", scope() + " has no free seats right now. Ask " + inviter() +
        " to free a seat or raise the limit, then try again.");
      return;
    case "FORBIDDEN":
      say("error", inviter() + " can no longer grant this role, so the invite cannot be accepted. Ask " + inviter() +
        " or another administrator of " + scope() + " for a new invite.");
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
  var target = preview.project
    ? preview.project.name + " in " + preview.organization.name
    : preview.organization.name;
  $("headline").textContent = (preview.status === "pending" ? "Join " : "Invitation to ") + target;
  $("d-org").textContent = preview.organization.name;
  $("d-project-row").hidden = !preview.project;
  $("d-project-value").hidden = !preview.project;
  $("d-project").textContent = preview.project ? preview.project.name : "";
  var role = ORG_ROLES[preview.role] || preview.role;
  if (preview.project) {
    role = (PROJECT_ROLES[preview.projectRole] || preview.projectRole) + " of the project (" + role +
      " of the organization if you are not already a member)";
  }
  $("d-role").textContent = role;
  $("d-inviter").textContent = preview.invitedBy && preview.invitedBy.name ? preview.invitedBy.name : "Someone";
  $("d-email").textContent = preview.emailHint;
  $("d-expires").textContent = formatDate(preview.expiresAt);
  if (new Date(preview.expiresAt).getTime() <= Date.now()) $("d-expires-label").textContent = "Expired";
  $("details").hidden = false;
}

var wasSignedIn = false;

/** Re-renders the action area for the current sign-in state. */
function refreshActions() {
  if (!auth || !preview || preview.status !== "pending" || busy) return;
  var signedIn = !!auth.label();
  $("actions").hidden = !signedIn;
  if (signedIn) {
    say("info", "Accept to join " + scope() + ", or decline the invitation.");
    // Just signed in and focus was dropped (the sign-in form went away): the next step is Accept.
    var active = document.activeElement;
    if (!wasSignedIn && (!active || active === document.body)) $("accept").focus();
  } else {
    say("info", "Sign in to accept or decline this invitation.",
      config.mode === "clerk" ? [button("sign-in", "Sign in", function () { auth.signIn(); }, true)] : []);
  }
  wasSignedIn = signedIn;
}

function setBusy(value) {
  busy = value;
  ["accept", "decline"].forEach(function (id) {
    if (value) $(id).setAttribute("aria-disabled", "true");
    else $(id).removeAttribute("aria-disabled");
  });
}

async function accept() {
  if (busy) return;
  setBusy(true);
  say("info", "Accepting…");
  try {
    var res = link
      ? await api("POST", "/v1/invites/" + encodeURIComponent(link.id) + "/accept", undefined, await auth.getToken())
      : await api("POST", "/v1/invites/accept", { token: token }, await auth.getToken());
    if (res.ok) {
      finished();
      var org = res.data.organization || { name: preview.organization.name };
      var where = res.data.project ? "the project " + res.data.project.name + " in " + org.name : org.name;
      say("ok", "You are now a member of " + where + ".");
      onward("Continue to " + org.name);
      $("onward-link").focus();
    } else {
      explain(res.data.code, res.data);
    }
  } catch (e) {
    say("error", "Could not reach the server. Check your connection and try again.");
  } finally {
    setBusy(false);
  }
}

/** Declining is by invite id (API.md): find this invite among the caller's own pending invites. */
async function decline() {
  if (busy) return;
  setBusy(true);
  say("info", "Declining…");
  try {
    var sessionToken = await auth.getToken();
    var id = preview.id;
    if (!id) {
      var mine = await api("GET", "/v1/me/invites", undefined, sessionToken);
      if (!mine.ok) {
        explain(mine.data.code, mine.data);
        return;
      }
      var match = (mine.data.data || []).filter(function (i) {
        return i.organization.name === preview.organization.name &&
          (i.project ? i.project.name : null) === (preview.project ? preview.project.name : null) &&
          i.role === preview.role && i.projectRole === preview.projectRole && i.expiresAt === preview.expiresAt;
      })[0];
      if (!match) {
        explain("INVITE_EMAIL_MISMATCH");
        return;
      }
      id = match.id;
    }
    var res = await api("POST", "/v1/invites/" + encodeURIComponent(id) + "/decline", undefined, sessionToken);
    if (res.ok) {
      finished();
      say("ok", "You declined the invitation to " + scope() + ". Nothing else changes; " + inviter() +
        " can invite you again later.");
      onward("Go to the app");
    } else {
      explain(res.data.code === "INVITE_NOT_FOUND" ? "INVITE_EMAIL_MISMATCH" : res.data.code, res.data);
    }
  } catch (e) {
    say("error", "Could not reach the server. Check your connection and try again.");
  } finally {
    setBusy(false);
  }
}

async function main() {
  $("accept").addEventListener("click", accept);
  $("decline").addEventListener("click", decline);
  if (link) {
    await mainById();
    return;
  }
  if (!token) {
    say("error", "This link is incomplete. Open the link in your invitation email again, exactly as it was sent.");
    return;
  }
  say("info", "Loading your invitation…");
  var res;
  try {
    res = await api("POST", "/v1/invites/preview", { token: token });
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

/** What the page shows of an invite it could not read yet (a user Roster does not know yet). */
function unknownInvite() {
  return {
    id: link.id, organization: { name: "this organization" }, project: null, role: "member", projectRole: null,
    invitedBy: null, emailHint: "your address", expiresAt: null, status: "pending"
  };
}

/** Opened from Clerk's invitation: finish the ticket, then show the invite from the caller's own list. */
async function mainById() {
  say("info", "Loading your invitation…");
  try {
    auth = await createAuth($("auth"), loadById, config);
  } catch (e) {
    say("error", "Sign-in could not be loaded. Reload the page to try again.");
    return;
  }
  if (link.ticket && auth.completeTicket && !auth.label()) {
    say("info", "Finishing your sign-in…");
    var done = false;
    try {
      done = await auth.completeTicket(link.ticket, link.status);
    } catch (e) {
      done = false;
    }
    if (!done) {
      say("error", "Your invitation link could not sign you in. Sign in with the address the invitation was sent to.",
        [button("sign-in", "Sign in", function () { auth.signIn(); }, true)]);
      return;
    }
  }
  dropTicket();
  await loadById();
}

var loading = null;

async function loadById() {
  if (loading) return loading;
  loading = (async function () {
    if (!auth.label()) {
      preview = unknownInvite();
      refreshActions();
      return;
    }
    var found = null;
    try {
      var res = await api("GET", "/v1/me/invites", undefined, await auth.getToken());
      if (res.ok) found = (res.data.data || []).filter(function (i) { return i.id === link.id; })[0] || null;
    } catch (e) { /* shown without details; accepting still works */ }
    // Not in the list yet: a user Roster does not know until their webhook arrives. Accepting
    // reads them from Clerk, so the invite is offered all the same.
    preview = found
      ? Object.assign({}, found, { emailHint: auth.label(), status: "pending" })
      : unknownInvite();
    if (found) showDetails();
    refreshActions();
  })();
  try { await loading; } finally { loading = null; }
}

main();
`;
