/**
 * Browser-side sign-in for the Worker's pages. Each variant defines, inside the page script's
 * closure, `createAuth(container, onChange, config)` resolving to
 * `{ getToken(), label(), signIn(), switchAccount() }`. The server includes exactly one variant:
 * the development one only when Clerk is not configured at all (see `devSignInEnabled`), so a
 * deployment with a Clerk key serves no development sign-in code whatsoever.
 *
 * Plain ES2020 in strings: no backticks and no template placeholders inside.
 */

/** Clerk's frontend SDK, loaded from the Frontend API host derived from the publishable key. */
// biome-ignore lint/complexity/noUselessStringRaw: browser code stays verbatim even when it gains a backslash.
export const CLERK_AUTH_JS = String.raw`
function loadScript(src, attrs) {
  return new Promise(function (resolve, reject) {
    var s = document.createElement("script");
    s.src = src;
    s.async = true;
    s.crossOrigin = "anonymous";
    Object.keys(attrs || {}).forEach(function (k) { s.setAttribute(k, attrs[k]); });
    s.onload = resolve;
    s.onerror = function () { reject(new Error("Could not load " + src)); };
    document.head.appendChild(s);
  });
}

async function createAuth(container, onChange, config) {
  var clerk = config.clerk;
  await Promise.all([
    loadScript(clerk.clerkJsUrl, { "data-clerk-publishable-key": clerk.publishableKey }),
    loadScript(clerk.clerkUiUrl, {})
  ]);
  var Clerk = window.Clerk;
  await Clerk.load({ ui: { ClerkUI: window.__internal_ClerkUICtor } });
  var status = document.createElement("p");
  status.className = "signed-in";
  container.replaceChildren(status);
  var auth = {
    label: function () {
      var user = Clerk.user;
      if (!user) return null;
      return user.primaryEmailAddress ? user.primaryEmailAddress.emailAddress : user.id;
    },
    getToken: async function () {
      return Clerk.session ? await Clerk.session.getToken() : null;
    },
    signIn: function () {
      Clerk.openSignIn({ forceRedirectUrl: location.href, signUpForceRedirectUrl: location.href });
    },
    switchAccount: async function () {
      await Clerk.signOut();
      Clerk.openSignIn({ forceRedirectUrl: location.href, signUpForceRedirectUrl: location.href });
    },
    // The link in Clerk's invitation email lands here with __clerk_ticket and __clerk_status
    // ("sign_up" for a new address, "sign_in" for a known one). The ticket proves the address, so
    // the sign-up or sign-in completes with it alone, as in Clerk's invitation custom flow. True
    // once signed in; false when Clerk needs more (a required password or name): its own
    // sign-up form, which reads the ticket from this URL, finishes it.
    completeTicket: async function (ticket, status) {
      if (Clerk.user) return true;
      var resource = status === "sign_in" ? Clerk.client.signIn : Clerk.client.signUp;
      var attempt = await resource.create({ strategy: "ticket", ticket: ticket });
      if (attempt.status !== "complete") {
        if (status !== "sign_in") Clerk.openSignUp({ forceRedirectUrl: location.href });
        return false;
      }
      await Clerk.setActive({ session: attempt.createdSessionId });
      return true;
    }
  };
  // Clerk calls a new listener at once with the current state: only later changes are news.
  var last = auth.label();
  status.textContent = last ? "Signed in as " + last : "";
  Clerk.addListener(function () {
    var label = auth.label();
    status.textContent = label ? "Signed in as " + label : "";
    if (label !== last) {
      last = label;
      onChange();
    }
  });
  return auth;
}
`;

/**
 * DEVELOPMENT sign-in: paste a session token printed by `npm run dev:user -- you@example.com`.
 * The token is checked with GET /v1/me (so it must verify against CLERK_JWT_KEY like any other)
 * and kept in sessionStorage, shared by /invite and /demo in this tab.
 */
// biome-ignore lint/complexity/noUselessStringRaw: browser code stays verbatim even when it gains a backslash.
export const DEV_AUTH_JS = String.raw`
var DEV_TOKEN_KEY = "roster.dev-session-token";

async function createAuth(container, onChange) {
  var state = { token: null, label: null };

  function storedToken() {
    try { return sessionStorage.getItem(DEV_TOKEN_KEY); } catch (e) { return null; }
  }
  function store(token) {
    try {
      if (token) sessionStorage.setItem(DEV_TOKEN_KEY, token);
      else sessionStorage.removeItem(DEV_TOKEN_KEY);
    } catch (e) { /* private mode: the token lives in memory only */ }
  }

  async function verify(token) {
    var res = await fetch("/v1/me", {
      headers: { Authorization: "Bearer " + token, Accept: "application/json" },
      cache: "no-store"
    });
    if (!res.ok) return null;
    var me = await res.json();
    return me.user.email || me.user.id;
  }

  function render(error) {
    var section = document.createElement("section");
    section.className = "dev";
    section.setAttribute("aria-labelledby", "dev-title");
    var badge = document.createElement("p");
    badge.className = "badge";
    badge.textContent = "Development only";
    var title = document.createElement("h2");
    title.id = "dev-title";
    title.textContent = "Development sign-in";
    section.append(badge, title);
    if (state.label) {
      var who = document.createElement("p");
      who.textContent = "Signed in as " + state.label + " with a development token.";
      var out = document.createElement("button");
      out.type = "button";
      out.id = "dev-sign-out";
      out.textContent = "Sign out";
      out.addEventListener("click", function () {
        state.token = null;
        state.label = null;
        store(null);
        render();
        onChange();
        var input = document.getElementById("dev-token");
        if (input) input.focus();
      });
      section.append(who, out);
    } else {
      var help = document.createElement("p");
      help.append(
        "Clerk is not configured on this server (CLERK_PUBLISHABLE_KEY and CLERK_SECRET_KEY are unset). " +
          "Sign in with a session token printed by "
      );
      var code = document.createElement("code");
      code.textContent = "npm run dev:user -- you@example.com";
      help.append(code, ".");
      var form = document.createElement("form");
      form.id = "dev-form";
      var label = document.createElement("label");
      label.htmlFor = "dev-token";
      label.textContent = "Session token";
      var input = document.createElement("input");
      input.type = "text";
      input.id = "dev-token";
      input.autocomplete = "off";
      input.spellcheck = false;
      input.required = true;
      var submit = document.createElement("button");
      submit.type = "submit";
      submit.className = "primary";
      submit.textContent = "Sign in";
      var err = document.createElement("p");
      err.className = "error";
      err.id = "dev-error";
      err.setAttribute("role", "alert");
      err.textContent = error || "";
      form.append(label, input, submit);
      form.addEventListener("submit", async function (event) {
        event.preventDefault();
        var token = input.value.trim();
        if (!token) return;
        var label = await verify(token).catch(function () { return null; });
        if (!label) {
          render("That token was not accepted: it may have expired. Run npm run dev:user again.");
          return;
        }
        state.token = token;
        state.label = label;
        store(token);
        render();
        onChange();
      });
      section.append(help, form, err);
    }
    container.replaceChildren(section);
  }

  var saved = storedToken();
  if (saved) {
    var label = await verify(saved).catch(function () { return null; });
    if (label) {
      state.token = saved;
      state.label = label;
    } else {
      store(null);
    }
  }
  render();

  return {
    label: function () { return state.label; },
    getToken: async function () { return state.token; },
    signIn: function () {
      var input = document.getElementById("dev-token");
      if (input) input.focus();
    },
    switchAccount: function () {
      var out = document.getElementById("dev-sign-out");
      if (out) out.click();
    }
  };
}
`;

/** Clerk's secret key is set but not its publishable key: nobody can sign in on this page. */
// biome-ignore lint/complexity/noUselessStringRaw: browser code stays verbatim even when it gains a backslash.
export const NO_AUTH_JS = String.raw`
async function createAuth(container) {
  var p = document.createElement("p");
  p.className = "error";
  p.textContent = "Sign-in is not available: the server has no CLERK_PUBLISHABLE_KEY configured.";
  container.replaceChildren(p);
  return {
    label: function () { return null; },
    getToken: async function () { return null; },
    signIn: function () {},
    switchAccount: function () {}
  };
}
`;
