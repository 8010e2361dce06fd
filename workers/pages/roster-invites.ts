/**
 * `<roster-invites>`: the sign-in banner, served as one dependency-free script at
 * GET /roster-invites.js. It lists the caller's pending invites (GET /v1/me/invites) — email
 * invites and consent-pending adds ("Alice added you to Acme") — with Accept and Decline buttons,
 * and the organizations of their email domain (GET /v1/me/suggestions) with "Ask to join" (or
 * "Join" where the domain enrolls automatically), in a Shadow DOM themable through CSS custom
 * properties:
 *
 *   --roster-bg, --roster-fg, --roster-muted, --roster-border, --roster-radius, --roster-font,
 *   --roster-accent, --roster-accent-fg, --roster-focus, --roster-danger
 *
 * and `::part(banner | invite | suggestion | button | accept | decline | join | dismiss)`.
 *
 * Attribute `api-base` (default: the origin the script was loaded from). Property `getToken`:
 * an async function returning a Clerk session token (default: `window.Clerk.session.getToken()`).
 * Method `refresh()`. Events (bubbling, composed): `roster:accepted` `{invite, organization,
 * project}`, `roster:declined` `{invite}`, `roster:requested` `{organization, joinRequest}` (a
 * request to join, pending an admin), `roster:joined` `{organization, joinRequest}` (joined at
 * once), `roster:error` `{action, invite, status, code, message}` (`invite` is the suggestion for
 * `action: "join"`).
 *
 * Kept as plain ES2020 in a string (the Worker serves it verbatim, no build step): no backticks
 * and no template placeholders inside.
 */
export const ROSTER_INVITES_JS = String.raw`/* <roster-invites> — Roster's invitation banner. No dependencies. */
(function () {
  "use strict";
  if (typeof customElements === "undefined" || customElements.get("roster-invites")) return;

  var script = document.currentScript;
  var SCRIPT_ORIGIN = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var DISMISSED_KEY = "roster-invites:dismissed";

  var CSS = [
    ":host{display:block;font:var(--roster-font,inherit);color:var(--roster-fg,#1f2328)}",
    ":host([hidden]){display:none}",
    ".banner{box-sizing:border-box;background:var(--roster-bg,#f6f8fa);border:1px solid var(--roster-border,#d0d7de);",
    "border-radius:var(--roster-radius,8px);padding:12px 16px;margin:0}",
    ".head{display:flex;align-items:center;justify-content:space-between;gap:12px}",
    ".title{font-weight:600;margin:0}",
    "ul{list-style:none;margin:8px 0 0;padding:0}",
    "li{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:8px 16px;padding:8px 0;",
    "border-top:1px solid var(--roster-border,#d0d7de)}",
    ".what{margin:0}.meta{margin:2px 0 0;color:var(--roster-muted,#59636e);font-size:.9em}",
    ".error{margin:4px 0 0;color:var(--roster-danger,#d1242f);font-size:.9em;flex-basis:100%}",
    ".actions{display:flex;gap:8px}",
    "button{font:inherit;cursor:pointer;border-radius:calc(var(--roster-radius,8px) - 2px);padding:6px 14px;",
    "border:1px solid var(--roster-border,#d0d7de);background:transparent;color:inherit}",
    "button.accept{background:var(--roster-accent,#1f6feb);border-color:var(--roster-accent,#1f6feb);",
    "color:var(--roster-accent-fg,#fff)}",
    "button.dismiss{padding:2px 8px;line-height:1.2;font-size:1.1em}",
    "button:disabled{opacity:.6;cursor:progress}",
    "button:focus-visible{outline:3px solid var(--roster-focus,#0969da);outline-offset:2px}",
    ".note{margin:8px 0 0}.note:empty{display:none}",
    ".sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);",
    "white-space:nowrap;border:0}"
  ].join("");

  var sheet = null;
  function adoptStyles(root) {
    // A constructed stylesheet works under a host page's strict CSP (no inline <style> needed).
    try {
      if (!sheet) {
        sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
      }
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      var style = document.createElement("style");
      style.textContent = CSS;
      root.appendChild(style);
    }
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var name in attrs) {
        if (attrs[name] !== null && attrs[name] !== undefined) node.setAttribute(name, attrs[name]);
      }
    }
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined) node.append(child);
    });
    return node;
  }

  var ORG_ROLES = { owner: "Owner", director: "Director", manager: "Manager", member: "Member", guest: "Guest" };
  var PROJECT_ROLES = { admin: "Admin", editor: "Editor", viewer: "Viewer" };

  function scopeName(invite) {
    return invite.project ? invite.organization.name + " / " + invite.project.name : invite.organization.name;
  }
  function roleText(invite) {
    return invite.projectRole ? PROJECT_ROLES[invite.projectRole] || invite.projectRole : ORG_ROLES[invite.role] || invite.role;
  }
  function dateText(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? iso : d.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
  }

  // Human messages for API.md's accept/decline failures, by problem code.
  var FAILURES = {
    INVITE_EXPIRED: ["gone", "This invite has expired. Ask the person who invited you for a new one."],
    INVITE_REVOKED: ["gone", "This invite was withdrawn."],
    INVITE_DECLINED: ["gone", "This invite was already declined."],
    INVITE_ALREADY_ACCEPTED: ["gone", "This invite was already accepted."],
    INVITE_NOT_FOUND: ["gone", "This invite no longer exists."],
    SEAT_LIMIT_REACHED: ["stay", "The organization has no free seats. Ask an administrator to free one, then try again."],
    EMAIL_NOT_VERIFIED: ["stay", "Verify your email address first, then try again."],
    INVITE_EMAIL_MISMATCH: ["stay", "This invite is for another email address."],
    FORBIDDEN: ["stay", "The person who invited you can no longer grant this role. Ask for a new invite."],
    UNAUTHENTICATED: ["stay", "Your session has ended. Sign in again."],
    RATE_LIMITED: ["stay", "Too many attempts. Wait a minute and try again."]
  };
  // Asking to join, by problem code.
  var JOIN_FAILURES = {
    ALREADY_MEMBER: ["gone", "You are already a member."],
    NOT_FOUND: ["gone", "This organization is no longer open to your email domain."],
    SEAT_LIMIT_REACHED: ["stay", "The organization has no free seats. Ask an administrator to free one."],
    UNAUTHENTICATED: ["stay", "Your session has ended. Sign in again."]
  };

  function dismissKey(suggestion) {
    return "org:" + suggestion.organization.id;
  }
  function titleText(invites, suggestions) {
    if (invites === 0 && suggestions === 0) return "Invitations";
    if (invites === 0) return suggestions === 1 ? "An organization you can join" : suggestions + " organizations you can join";
    var head = invites === 1 ? "You have a pending invitation" : "You have " + invites + " pending invitations";
    return suggestions === 0 ? head : head + (suggestions === 1 ? " and a suggestion" : " and " + suggestions + " suggestions");
  }

  function readDismissed() {
    try {
      var v = JSON.parse(sessionStorage.getItem(DISMISSED_KEY) || "[]");
      return Array.isArray(v) ? v : [];
    } catch (e) {
      return [];
    }
  }
  function writeDismissed(ids) {
    try {
      sessionStorage.setItem(DISMISSED_KEY, JSON.stringify(ids));
    } catch (e) {
      /* storage unavailable: dismissal lasts for this page only */
    }
  }

  async function defaultGetToken() {
    var clerk = window.Clerk;
    return clerk && clerk.session ? await clerk.session.getToken() : null;
  }

  class RosterInvites extends HTMLElement {
    static get observedAttributes() {
      return ["api-base"];
    }

    constructor() {
      super();
      this._root = this.attachShadow({ mode: "open" });
      adoptStyles(this._root);
      this._getToken = null;
      this._invites = [];
      this._suggestions = [];
      this._errors = {};
      this._note = "";
      this._busy = false;
      this._generation = 0;
      this._live = el("div", { class: "sr", role: "status", "aria-live": "polite", "aria-atomic": "true" });
      this._view = el("div");
      this._root.append(this._view, this._live);
    }

    get getToken() {
      return this._getToken || defaultGetToken;
    }
    set getToken(fn) {
      this._getToken = typeof fn === "function" ? fn : null;
      if (this.isConnected) this.refresh();
    }

    get apiBase() {
      return (this.getAttribute("api-base") || SCRIPT_ORIGIN).replace(/\/+$/, "");
    }

    connectedCallback() {
      // A framework may set getToken before this element was upgraded: take the own property over.
      if (Object.prototype.hasOwnProperty.call(this, "getToken")) {
        var fn = this.getToken;
        delete this.getToken;
        this._getToken = typeof fn === "function" ? fn : null;
      }
      var clerk = window.Clerk;
      if (!this._getToken && clerk && typeof clerk.addListener === "function" && !this._unlisten) {
        var self = this;
        // Clerk calls a new listener at once with the current state: only later changes are news.
        var last = clerk.session ? clerk.session.id : null;
        this._unlisten = clerk.addListener(function (state) {
          var id = state && state.session ? state.session.id : null;
          if (id !== last) {
            last = id;
            self.refresh();
          }
        });
      }
      this.refresh();
    }

    disconnectedCallback() {
      if (typeof this._unlisten === "function") this._unlisten();
      this._unlisten = null;
    }

    attributeChangedCallback(name, oldValue, newValue) {
      if (oldValue !== newValue && this.isConnected) this.refresh();
    }

    async _fetch(method, path, body) {
      var token = await this.getToken();
      if (!token) return null;
      var headers = { Authorization: "Bearer " + token, Accept: "application/json" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      return await fetch(this.apiBase + path, {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store"
      });
    }

    _fail(action, invite, status, code, message) {
      this.dispatchEvent(
        new CustomEvent("roster:error", {
          bubbles: true,
          composed: true,
          detail: { action: action, invite: invite || null, status: status, code: code, message: message }
        })
      );
    }

    /** Reloads the list of pending invites. */
    async refresh() {
      var generation = ++this._generation;
      var response;
      var suggested = null;
      try {
        var both = await Promise.all([
          this._fetch("GET", "/v1/me/invites"),
          // Suggestions are extra: a failure to load them leaves the invites shown.
          this._fetch("GET", "/v1/me/suggestions").catch(function () { return null; })
        ]);
        response = both[0];
        suggested = both[1];
      } catch (e) {
        if (generation !== this._generation) return;
        this._invites = [];
        this._suggestions = [];
        this._render();
        this._fail("load", null, 0, "NETWORK", "Could not reach Roster at " + this.apiBase + ".");
        return;
      }
      if (generation !== this._generation) return;
      if (response === null || !response.ok) {
        this._invites = [];
        this._suggestions = [];
        this._render();
        if (response) {
          var problem = await response.json().catch(function () { return {}; });
          this._fail("load", null, response.status, problem.code || "HTTP_" + response.status, problem.detail || "");
        }
        return;
      }
      var body = await response.json();
      var suggestions = suggested && suggested.ok ? (await suggested.json().catch(function () { return {}; })).data || [] : [];
      if (generation !== this._generation) return;
      var dismissed = readDismissed();
      this._invites = (body.data || []).filter(function (invite) {
        return dismissed.indexOf(invite.id) === -1;
      });
      this._suggestions = suggestions.filter(function (suggestion) {
        return dismissed.indexOf(dismissKey(suggestion)) === -1;
      });
      this._errors = {};
      this._render();
    }

    _announce(message) {
      this._note = message;
      // Clear, then set: a repeated message is announced again.
      var live = this._live;
      live.textContent = "";
      setTimeout(function () {
        live.textContent = message;
      }, 50);
    }

    _setBusy(busy) {
      this._busy = busy;
      // aria-disabled rather than disabled: a disabled button would drop the keyboard focus.
      this._root.querySelectorAll("button.accept, button.decline").forEach(function (button) {
        if (busy) button.setAttribute("aria-disabled", "true");
        else button.removeAttribute("aria-disabled");
      });
    }

    async _act(invite, action) {
      if (this._busy) return;
      this._setBusy(true);
      var name = scopeName(invite);
      var response = null;
      try {
        response = await this._fetch("POST", "/v1/invites/" + encodeURIComponent(invite.id) + "/" + action);
      } catch (e) {
        response = null;
      }
      var index = this._invites.indexOf(invite);
      this._busy = false;
      if (response !== null && response.ok) {
        var result = action === "accept" ? await response.json().catch(function () { return {}; }) : null;
        this._announce(
          action === "accept"
            ? "You joined " + name + " as " + roleText(invite) + "."
            : "You declined the invitation to " + name + "."
        );
        this._remove(invite, index);
        if (action === "accept") {
          this._emit("roster:accepted", {
            invite: invite,
            organization: result ? result.organization : null,
            project: result ? result.project : null
          });
        } else {
          this._emit("roster:declined", { invite: invite });
        }
        return;
      }
      var status = response ? response.status : 0;
      var problem = response ? await response.json().catch(function () { return {}; }) : {};
      var code = problem.code || (response ? "HTTP_" + status : "NETWORK");
      var known = FAILURES[code];
      var message = known ? known[1] : response ? "Something went wrong. Try again later." : "Could not reach Roster. Try again.";
      if (known && known[0] === "gone") {
        this._announce(name + ": " + message);
        this._remove(invite, index);
      } else {
        this._errors[invite.id] = message;
        this._announce("Could not " + action + " the invitation to " + name + ". " + message);
        this._render(index);
      }
      this._fail(action, invite, status, code, message);
    }

    /** Asks to join a suggested organization (or joins it at once, enrollment auto). */
    async _join(suggestion) {
      if (this._busy) return;
      this._setBusy(true);
      var name = suggestion.organization.name;
      var response = null;
      try {
        response = await this._fetch(
          "POST",
          "/v1/organizations/" + encodeURIComponent(suggestion.organization.id) + "/join-requests",
          {}
        );
      } catch (e) {
        response = null;
      }
      var index = this._invites.length + this._suggestions.indexOf(suggestion);
      this._busy = false;
      if (response !== null && response.ok) {
        var request = await response.json().catch(function () { return {}; });
        var joined = request.status === "approved";
        this._announce(joined ? "You joined " + name + "." : "Request sent to " + name + ". An administrator will decide.");
        this._remove(suggestion, index);
        this._emit(joined ? "roster:joined" : "roster:requested", {
          organization: suggestion.organization,
          joinRequest: request
        });
        return;
      }
      var status = response ? response.status : 0;
      var problem = response ? await response.json().catch(function () { return {}; }) : {};
      var code = problem.code || (response ? "HTTP_" + status : "NETWORK");
      var known = JOIN_FAILURES[code];
      var message = known ? known[1] : response ? "Something went wrong. Try again later." : "Could not reach Roster. Try again.";
      if (known && known[0] === "gone") {
        this._announce(name + ": " + message);
        this._remove(suggestion, index);
      } else {
        this._errors[dismissKey(suggestion)] = message;
        this._announce("Could not join " + name + ". " + message);
        this._render(index);
      }
      this._fail("join", suggestion, status, code, message);
    }

    _emit(type, detail) {
      this.dispatchEvent(new CustomEvent(type, { bubbles: true, composed: true, detail: detail }));
    }

    /** Removes an invite or a suggestion, then focuses the next item's first button. */
    _remove(item, index) {
      var other = function (i) {
        return i !== item;
      };
      this._invites = this._invites.filter(other);
      this._suggestions = this._suggestions.filter(other);
      // Invites have ids; suggestions are keyed by their organization.
      delete this._errors[item.id !== undefined ? item.id : dismissKey(item)];
      this._render(index);
    }

    _dismiss() {
      var ids = readDismissed();
      var had = this._invites.length + this._suggestions.length > 0;
      this._invites.forEach(function (invite) {
        if (ids.indexOf(invite.id) === -1) ids.push(invite.id);
      });
      this._suggestions.forEach(function (suggestion) {
        if (ids.indexOf(dismissKey(suggestion)) === -1) ids.push(dismissKey(suggestion));
      });
      writeDismissed(ids);
      this._invites = [];
      this._suggestions = [];
      this._note = "";
      this._render();
      if (had) this._announce("Invitations hidden for this session.");
      this._note = "";
    }

    /** Rebuilds the banner; with focusIndex, focuses that invite's Accept button (else Dismiss). */
    _render(focusIndex) {
      var self = this;
      var view = this._view;
      view.replaceChildren();
      var count = this._invites.length + this._suggestions.length;
      if (count === 0 && !this._note) return;
      var titleId = "roster-invites-title";
      var title = el("p", { class: "title", id: titleId }, [titleText(this._invites.length, this._suggestions.length)]);
      var dismiss = el("button", { type: "button", class: "dismiss", part: "button dismiss", "aria-label": "Dismiss invitations" }, [
        "\u00d7"
      ]);
      dismiss.addEventListener("click", function () {
        self._dismiss();
      });
      var list = el("ul");
      this._invites.forEach(function (invite) {
        var name = scopeName(invite);
        var inviter = invite.invitedBy && invite.invitedBy.name ? invite.invitedBy.name : null;
        // A consent-pending add names who added the user; an email invite, who invited them.
        var added = invite.source === "owner_add";
        var by = inviter && !added ? " \u00b7 Invited by " + inviter : "";
        var accept = el(
          "button",
          { type: "button", class: "accept", part: "button accept", "aria-label": "Accept the invitation to " + name },
          ["Accept"]
        );
        var decline = el(
          "button",
          { type: "button", class: "decline", part: "button decline", "aria-label": "Decline the invitation to " + name },
          ["Decline"]
        );
        accept.addEventListener("click", function () {
          self._act(invite, "accept");
        });
        decline.addEventListener("click", function () {
          self._act(invite, "decline");
        });
        var error = self._errors[invite.id];
        list.append(
          el("li", { part: "invite", "data-invite-id": invite.id, "data-source": invite.source || "email" }, [
            el("div", null, [
              added
                ? el("p", { class: "what" }, [
                    (inviter || "An administrator") + " added you to ",
                    el("strong", null, [invite.organization.name])
                  ])
                : el("p", { class: "what" }, [
                    el("strong", null, [invite.organization.name]),
                    invite.project ? " \u00b7 project " : null,
                    invite.project ? el("strong", null, [invite.project.name]) : null
                  ]),
              el("p", { class: "meta" }, ["Role: " + roleText(invite) + by + " \u00b7 Expires " + dateText(invite.expiresAt)])
            ]),
            el("div", { class: "actions" }, [accept, decline]),
            error ? el("p", { class: "error" }, [error]) : null
          ])
        );
      });
      this._suggestions.forEach(function (suggestion) {
        var name = suggestion.organization.name;
        var auto = suggestion.enrollment === "auto";
        var join = el(
          "button",
          { type: "button", class: "accept join", part: "button join", "aria-label": (auto ? "Join " : "Ask to join ") + name },
          [auto ? "Join" : "Ask to join"]
        );
        join.addEventListener("click", function () {
          self._join(suggestion);
        });
        var error = self._errors[dismissKey(suggestion)];
        list.append(
          el("li", { part: "suggestion", "data-organization-id": suggestion.organization.id }, [
            el("div", null, [
              el("p", { class: "what" }, ["People at " + suggestion.domain + " use ", el("strong", null, [name])]),
              el("p", { class: "meta" }, [
                auto ? "Your " + suggestion.domain + " address lets you join as Member" : "An administrator approves requests"
              ])
            ]),
            el("div", { class: "actions" }, [join]),
            error ? el("p", { class: "error" }, [error]) : null
          ])
        );
      });
      view.append(
        el("section", { class: "banner", part: "banner", role: "region", "aria-labelledby": titleId }, [
          el("div", { class: "head" }, [title, dismiss]),
          count > 0 ? list : null,
          el("p", { class: "note" }, [this._note])
        ])
      );
      if (typeof focusIndex === "number") {
        var buttons = this._root.querySelectorAll("button.accept");
        var target = buttons[Math.min(focusIndex, buttons.length - 1)] || dismiss;
        target.focus();
      }
    }
  }

  customElements.define("roster-invites", RosterInvites);
})();
`;
