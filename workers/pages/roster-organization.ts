/**
 * `<roster-organization org-id="…">`: the admin panel a product drops into its settings page,
 * served as one dependency-free script at GET /roster-organization.js. Sections, each shown only
 * to roles that may use it (PRODUCT.md "Roles and permissions"):
 *
 * - Members (org:read, not guests): paged list; a role control offering only the roles the viewer
 *   may grant, on members the viewer may act on; Remove (confirmed); Leave on the viewer's own row.
 * - Invite people (members:invite): many addresses at once, checked before sending; a role; an
 *   optional project and project role; the outcome per address.
 * - Invitations (invites:read): status filter, delivery status, expiry, source, Resend and Revoke.
 * - Join requests (members:invite) and Domains (listed with org:read, changed with org:update):
 *   hidden when the server answers 404 for the collection (a Roster without those endpoints).
 *
 * Themable with the banner's custom properties (--roster-bg, -fg, -muted, -border, -radius, -font,
 * -accent, -accent-fg, -focus, -danger, plus --roster-ok) and `::part(panel | section | heading |
 * table | row | button | primary | danger | input | select | address | invalid | outcome | dialog | error)`.
 *
 * Attributes `org-id` (required), `api-base` (default: the script's origin), `page-size` (members
 * and invitations per page, default 20). Property `getToken` (as the banner's). Method `refresh()`.
 * Events (bubbling, composed): `roster:changed` `{action, …}` after each successful change,
 * `roster:error` `{action, status, code, message}`.
 *
 * Plain ES2020 in a string (served verbatim, no build step): no backticks, no template placeholders.
 */
export const ROSTER_ORGANIZATION_JS = String.raw`/* <roster-organization> — Roster's admin panel. No dependencies. */
(function () {
  "use strict";
  if (typeof customElements === "undefined" || customElements.get("roster-organization")) return;

  var script = document.currentScript;
  var SCRIPT_ORIGIN = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var MAX_ADDRESSES = 50;

  var CSS = [
    ":host{display:block;font:var(--roster-font,inherit);color:var(--roster-fg,#1f2328)}",
    ":host([hidden]){display:none}",
    ".panel{box-sizing:border-box;background:var(--roster-bg,#fff);border:1px solid var(--roster-border,#d0d7de);",
    "border-radius:var(--roster-radius,8px);padding:16px 20px}",
    "section{margin:0;padding:16px 0;border-top:1px solid var(--roster-border,#d0d7de)}",
    "section:first-of-type{border-top:0;padding-top:4px}",
    "h2{font-size:1.25em;margin:0 0 4px}h3{font-size:1.05em;margin:0 0 8px}",
    "h2:focus,h3:focus{outline:none}form h3{margin-top:16px}",
    ".muted{color:var(--roster-muted,#59636e)}.small{font-size:.875em}",
    "p{margin:4px 0 8px}",
    ".scroll{overflow-x:auto}",
    "table{border-collapse:collapse;width:100%}",
    "th,td{text-align:left;vertical-align:top;padding:8px 12px 8px 0;border-top:1px solid var(--roster-border,#d0d7de)}",
    "th{font-size:.8em;font-weight:600;color:var(--roster-muted,#59636e);text-transform:uppercase;letter-spacing:.03em;border-top:0}",
    "td .sub{display:block;color:var(--roster-muted,#59636e);font-size:.875em}",
    ".actions{display:flex;flex-wrap:wrap;gap:6px}",
    "button,select,input,textarea{font:inherit;color:inherit;border-radius:calc(var(--roster-radius,8px) - 2px);",
    "border:1px solid var(--roster-border,#d0d7de);background:var(--roster-bg,#fff)}",
    "button{cursor:pointer;padding:5px 12px}",
    "select,input{padding:4px 6px}",
    "textarea{box-sizing:border-box;width:100%;padding:6px 8px;resize:vertical}",
    "button.primary{background:var(--roster-accent,#1f6feb);border-color:var(--roster-accent,#1f6feb);color:var(--roster-accent-fg,#fff)}",
    "button.danger{color:var(--roster-danger,#d1242f)}",
    "button.danger.primary{background:var(--roster-danger,#d1242f);border-color:var(--roster-danger,#d1242f);color:#fff}",
    "button[aria-disabled=true]{opacity:.6;cursor:progress}",
    "button:focus-visible,select:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid var(--roster-focus,#0969da);outline-offset:2px}",
    "textarea[aria-invalid=true]{border-color:var(--roster-danger,#d1242f)}",
    "label{display:block;font-weight:600;margin:8px 0 4px}",
    ".fields{display:flex;flex-wrap:wrap;gap:0 16px;align-items:flex-end}",
    ".chips{list-style:none;display:flex;flex-wrap:wrap;gap:6px;margin:8px 0;padding:0}",
    ".chips li{border:1px solid var(--roster-border,#d0d7de);border-radius:999px;padding:1px 10px;font-size:.875em}",
    ".chips li.invalid{border-color:var(--roster-danger,#d1242f);color:var(--roster-danger,#d1242f);background:#ffebe9;font-weight:600}",
    ".error,td .sub.error{color:var(--roster-danger,#d1242f)}.error:empty,.chips:empty,p:empty{display:none}",
    ".ok{color:var(--roster-ok,#1a7f37)}",
    ".outcomes{list-style:none;margin:8px 0 0;padding:0}.outcomes li{padding:2px 0}",
    ".badge{display:inline-block;font-size:.8em;border-radius:999px;padding:0 8px;border:1px solid var(--roster-border,#d0d7de)}",
    ".badge.failed{border-color:var(--roster-danger,#d1242f);color:var(--roster-danger,#d1242f)}",
    ".badge.sent{border-color:var(--roster-ok,#1a7f37);color:var(--roster-ok,#1a7f37)}",
    ".pager{display:flex;gap:8px;align-items:center;margin-top:8px}",
    "dialog{border:1px solid var(--roster-border,#d0d7de);border-radius:var(--roster-radius,8px);padding:20px;max-width:28rem;",
    "color:var(--roster-fg,#1f2328);background:var(--roster-bg,#fff)}",
    "dialog::backdrop{background:rgba(0,0,0,.35)}",
    "dialog .actions{justify-content:flex-end;margin-top:16px}",
    ".sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}"
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

  /** el("button", {class: "x", onclick: fn}, ["Label"]): attributes, listeners for on* functions. */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var name in attrs || {}) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) continue;
      if (typeof value === "function") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    (children || []).forEach(function (child) {
      if (child !== null && child !== undefined && child !== false) node.append(child);
    });
    return node;
  }

  // ---- Roles (PRODUCT.md "Roles and permissions") ----
  var ROLES = ["owner", "director", "manager", "member", "guest"];
  var ROLE_NAMES = { owner: "Owner", director: "Director", manager: "Manager", member: "Member", guest: "Guest" };
  var PROJECT_ROLES = ["admin", "editor", "viewer"];
  var PROJECT_ROLE_NAMES = { admin: "Admin", editor: "Editor", viewer: "Viewer" };
  var MANAGERS = ["owner", "director", "manager"];
  var PERMISSIONS = {
    "members:read": ["owner", "director", "manager", "member"],
    "members:invite": MANAGERS,
    "members:update_role": MANAGERS,
    "members:remove": MANAGERS,
    "invites:read": MANAGERS,
    "org:update": ["owner", "director"],
    "domains:read": ["owner", "director", "manager", "member"]
  };
  function can(role, permission) {
    return PERMISSIONS[permission].indexOf(role) !== -1;
  }
  function rank(role) {
    return ROLES.length - ROLES.indexOf(role);
  }
  /** Nobody grants a role above their own. */
  function grantable(role) {
    return ROLES.filter(function (r) {
      return rank(r) <= rank(role);
    });
  }
  /** Changes and removals act on members ranked strictly below, except owners on owners. */
  function canActOn(actor, target) {
    return actor === "owner" || rank(target) < rank(actor);
  }
  function roleName(role) {
    return ROLE_NAMES[role] || role;
  }

  // ---- Addresses: the server's rule (workers/core/email.ts), checked before sending ----
  var ADDRESS = /^[^\s@",;<>()[\]\\\u0000-\u001f\u007f]{1,64}@[^\s@",;<>()[\]\\\u0000-\u001f\u007f]+\.[^\s@",;<>()[\]\\\u0000-\u001f\u007f.]{2,}$/u;

  /**
   * Splits pasted text on commas, semicolons, spaces and new lines ("Name <a@b.c>" yields a@b.c),
   * canonicalises each address (trim, NFC, lower case) and drops repeats, keeping the first order.
   */
  function parseAddresses(text) {
    var unwrapped = String(text || "").replace(/[^,;\n<>]*<([^<>]*)>/g, " $1 ");
    var seen = {};
    var out = [];
    unwrapped.split(/[\s,;]+/).forEach(function (raw) {
      if (!raw) return;
      var value = raw.normalize("NFC").toLowerCase();
      if (seen[value]) return;
      seen[value] = true;
      out.push({ value: value, valid: value.length <= 254 && ADDRESS.test(value) && value.indexOf("..") === -1 });
    });
    return out;
  }

  // ---- Words for results and refusals ----
  var OUTCOMES = { invited: "Invited", already_invited: "Already invited", already_member: "Already a member" };
  var STATUSES = { pending: "Pending", accepted: "Accepted", declined: "Declined", revoked: "Revoked", expired: "Expired" };

  function refusal(code, action) {
    switch (code) {
      case "LAST_OWNER":
        return action === "leave"
          ? "You are the only owner. Make another member an owner before you leave."
          : "This is the organization's only owner. Make another member an owner first.";
      case "FORBIDDEN":
        return "Your role does not allow this. You can act only on members ranked below you.";
      case "ROLE_ABOVE_OWN":
        return "You cannot grant a role above your own.";
      case "CONFLICT":
        return action === "approve" || action === "deny"
          ? "Someone else decided this request meanwhile. The list was reloaded."
          : "Someone changed this at the same moment. Try again.";
      case "NOT_FOUND":
        return "This no longer exists. The list was reloaded.";
      case "INVITE_NOT_FOUND":
        return "This invitation no longer exists.";
      case "INVITE_ALREADY_ACCEPTED":
        return "This invitation was already accepted.";
      case "INVITE_DECLINED":
        return "This invitation was declined; send a new one instead.";
      case "INVITE_REVOKED":
        return "This invitation was revoked; send a new one instead.";
      case "INVITE_ALREADY_PENDING":
        return "This address already has a pending invitation.";
      case "ALREADY_MEMBER":
        return "This person is already a member.";
      case "SEAT_LIMIT_REACHED":
        return action === "approve"
          ? "The organization has no free seats. Free one or raise the seat limit, then approve."
          : "The organization has no free seats.";
      case "RATE_LIMITED":
        return "Too many invitations for now. Try again later.";
      case "DOMAIN_NOT_VERIFIED":
        return "You can claim a domain only where you have a verified email address.";
      case "DOMAIN_NOT_ALLOWED":
        return "Free-mail and public domains cannot be claimed.";
      case "VALIDATION_FAILED":
        return "Some input was not accepted. Check it and try again.";
      case "UNAUTHENTICATED":
        return "Your session has ended. Sign in again.";
      case "NETWORK":
        return "Could not reach Roster. Try again.";
      default:
        return "Something went wrong. Try again later.";
    }
  }

  function dateText(iso) {
    var d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
  }
  function personName(p) {
    return p.name || p.email || p.userId;
  }

  async function defaultGetToken() {
    var clerk = window.Clerk;
    return clerk && clerk.session ? await clerk.session.getToken() : null;
  }

  /** A paged list: cursors[i] opens page i; next is the nextCursor of the page shown. */
  function pager() {
    return { rows: [], cursors: [null], index: 0, next: null, error: "", hidden: false };
  }

  var uid = 0;

  class RosterOrganization extends HTMLElement {
    static get observedAttributes() {
      return ["org-id", "api-base", "page-size"];
    }

    /** The invite form's address parser, for tests and for hosts that pre-check input. */
    static parseAddresses(text) {
      return parseAddresses(text);
    }

    constructor() {
      super();
      this._id = "ro" + ++uid + "-";
      this._root = this.attachShadow({ mode: "open" });
      adoptStyles(this._root);
      this._getToken = null;
      this._generation = 0;
      this._pollTimer = null;
      this._polls = 0;
      this._reset();
      this._live = el("div", { class: "sr", role: "status", "aria-live": "polite", "aria-atomic": "true" });
      this._dialog = el("dialog", { part: "dialog", "aria-labelledby": this._id + "dlg-title" });
      this._boxes = {};
      var view = el("div", { class: "panel", part: "panel" });
      ["header", "members", "invite", "invites", "joins", "domains"].forEach(function (name) {
        this._boxes[name] = view.appendChild(el("div", { "data-box": name }));
      }, this);
      this._view = view;
      this._root.append(view, this._dialog, this._live);
    }

    _reset() {
      this._phase = "loading";
      this._org = null;
      this._me = null;
      this._members = pager();
      this._invites = pager();
      this._invites.status = "pending";
      this._joins = pager();
      this._domains = pager();
      this._projects = [];
      this._rowErrors = {};
      this._drafts = {};
      this._busy = false;
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
    get orgId() {
      return this.getAttribute("org-id") || "";
    }
    get pageSize() {
      var n = parseInt(this.getAttribute("page-size") || "20", 10);
      return n >= 1 && n <= 100 ? n : 20;
    }

    connectedCallback() {
      // A framework may set getToken before this element was upgraded: take the own property over.
      if (Object.prototype.hasOwnProperty.call(this, "getToken")) {
        var fn = this.getToken;
        delete this.getToken;
        this._getToken = typeof fn === "function" ? fn : null;
      }
      this.refresh();
    }

    disconnectedCallback() {
      clearTimeout(this._pollTimer);
      this._pollTimer = null;
    }

    attributeChangedCallback(name, oldValue, newValue) {
      if (oldValue !== newValue && this.isConnected) this.refresh();
    }

    // ---- HTTP ----

    /** Resolves to {ok, status, body, code}; a network failure is status 0, code NETWORK. */
    async _api(method, path, body) {
      var token;
      try {
        token = await this.getToken();
      } catch (e) {
        token = null;
      }
      if (!token) return { ok: false, status: 401, body: null, code: "UNAUTHENTICATED" };
      var headers = { Authorization: "Bearer " + token, Accept: "application/json" };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      var response;
      try {
        response = await fetch(this.apiBase + path, {
          method: method,
          headers: headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          credentials: "omit",
          cache: "no-store"
        });
      } catch (e) {
        return { ok: false, status: 0, body: null, code: "NETWORK" };
      }
      var data = response.status === 204 ? null : await response.json().catch(function () { return null; });
      return {
        ok: response.ok,
        status: response.status,
        body: data,
        code: response.ok ? null : (data && data.code) || "HTTP_" + response.status
      };
    }

    _orgPath(rest) {
      return "/v1/organizations/" + encodeURIComponent(this.orgId) + rest;
    }

    /** Loads one page of a paged collection; a 404 for the collection hides its section. */
    async _loadPage(list, path, generation) {
      var cursor = list.cursors[list.index];
      var sep = path.indexOf("?") === -1 ? "?" : "&";
      var url = path + sep + "limit=" + this.pageSize + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
      var res = await this._api("GET", url);
      if (generation !== this._generation) return false;
      list.hidden = res.status === 404;
      list.forbidden = res.status === 403;
      list.error = res.ok || list.hidden || list.forbidden ? "" : refusal(res.code);
      list.rows = res.ok ? res.body.data || [] : [];
      list.next = res.ok ? res.body.nextCursor || null : null;
      return true;
    }

    /** Reloads everything the viewer may see. */
    async refresh() {
      var generation = ++this._generation;
      clearTimeout(this._pollTimer);
      this._polls = 0;
      var keepStatus = this._invites.status;
      this._reset();
      this._invites.status = keepStatus;
      this._renderAll();
      if (!this.orgId) {
        this._phase = "error";
        this._message = "No organization: set the org-id attribute.";
        this._renderAll();
        return;
      }
      var me = await this._api("GET", "/v1/me");
      if (generation !== this._generation) return;
      if (!me.ok) {
        this._phase = me.status === 401 ? "signed-out" : "error";
        this._message = me.status === 401 ? "Sign in to manage this organization." : refusal(me.code);
        this._renderAll();
        this._fail("load", me);
        return;
      }
      var orgId = this.orgId;
      var org = (me.body.organizations || []).filter(function (o) {
        return o.id === orgId;
      })[0];
      this._me = me.body.user;
      if (!org) {
        this._phase = "error";
        this._message = "You are not a member of this organization.";
        this._renderAll();
        return;
      }
      this._org = org;
      var role = org.role;
      var loads = [];
      if (can(role, "members:read")) loads.push(this._loadPage(this._members, this._orgPath("/members"), generation));
      if (can(role, "invites:read")) loads.push(this._loadInvites(generation));
      if (can(role, "members:invite")) {
        loads.push(this._loadProjects(generation));
        loads.push(this._loadPage(this._joins, this._orgPath("/join-requests?status=pending"), generation));
      } else {
        this._joins.hidden = true;
      }
      if (can(role, "domains:read")) loads.push(this._loadPage(this._domains, this._orgPath("/domains"), generation));
      else this._domains.hidden = true;
      await Promise.all(loads);
      if (generation !== this._generation) return;
      this._phase = "ready";
      this._renderAll();
      this._schedulePoll();
    }

    async _loadInvites(generation) {
      return await this._loadPage(
        this._invites,
        this._orgPath("/invites?status=" + encodeURIComponent(this._invites.status)),
        generation
      );
    }

    async _loadProjects(generation) {
      var res = await this._api("GET", this._orgPath("/projects?limit=100"));
      if (generation === this._generation && res.ok) this._projects = res.body.data || [];
    }

    /** Re-reads the viewer's role; if it changed, every section is drawn again for the new one. */
    async _recheckRole() {
      var generation = this._generation;
      var me = await this._api("GET", "/v1/me");
      if (generation !== this._generation || !me.ok) return;
      var orgId = this.orgId;
      var org = (me.body.organizations || []).filter(function (o) {
        return o.id === orgId;
      })[0];
      if (!org || org.role === this._org.role) return;
      this._org = org;
      // The member list shows the viewer's own role too, and which rows they may act on.
      if (can(org.role, "members:read")) await this._loadPage(this._members, this._orgPath("/members"), generation);
      if (generation !== this._generation) return;
      this._renderAll();
    }

    /** Reloads one section in place (after a change or a page turn), keeping the others. */
    async _reload(name) {
      var generation = this._generation;
      if (name === "members") await this._loadPage(this._members, this._orgPath("/members"), generation);
      if (name === "invites") await this._loadInvites(generation);
      if (name === "joins") await this._loadPage(this._joins, this._orgPath("/join-requests?status=pending"), generation);
      if (name === "domains") await this._loadPage(this._domains, this._orgPath("/domains"), generation);
      if (generation !== this._generation) return;
      this._render(name);
      if (name === "invites") this._schedulePoll();
    }

    /** While an invitation's email is queued, re-reads the list so its delivery status updates. */
    _schedulePoll() {
      clearTimeout(this._pollTimer);
      var queued = this._invites.rows.some(function (i) {
        return i.status === "pending" && i.delivery && i.delivery.status === "queued";
      });
      if (!queued || this._polls >= 30 || !this.isConnected) return;
      var self = this;
      this._pollTimer = setTimeout(function () {
        self._polls++;
        self._reload("invites");
      }, 1500);
    }

    // ---- Announcements, events, dialogs ----

    _announce(message) {
      var live = this._live;
      // Clear, then set: a repeated message is announced again.
      live.textContent = "";
      setTimeout(function () {
        live.textContent = message;
      }, 50);
    }

    _changed(detail, message) {
      this._announce(message);
      this.dispatchEvent(new CustomEvent("roster:changed", { bubbles: true, composed: true, detail: detail }));
    }

    _fail(action, res, message) {
      this.dispatchEvent(
        new CustomEvent("roster:error", {
          bubbles: true,
          composed: true,
          detail: { action: action, status: res.status, code: res.code, message: message || refusal(res.code, action) }
        })
      );
    }

    /** A refusal shown beside what it concerns (by key) and announced. */
    _refuse(key, action, res, section) {
      var message = refusal(res.code, action);
      this._rowErrors[key] = message;
      this._announce(message);
      this._fail(action, res, message);
      this._render(section);
    }

    /**
     * A modal confirmation (native <dialog>: focus moves in, Escape cancels, the page behind is
     * inert). Focus starts on Cancel and returns to the control that opened it.
     */
    _confirm(title, text, confirmLabel) {
      var dialog = this._dialog;
      var opener = this._root.activeElement;
      var id = this._id;
      return new Promise(function (resolve) {
        var done = function (ok) {
          dialog.removeEventListener("close", onClose);
          if (dialog.open) dialog.close();
          if (opener && opener.isConnected) opener.focus();
          resolve(ok);
        };
        // Escape (or any close) cancels. A close event is dispatched after a delay: one arriving
        // while the dialog is open again belongs to the previous question and is ignored.
        var onClose = function () {
          if (!dialog.open) done(false);
        };
        var cancel = el("button", { type: "button", part: "button", onclick: function () { done(false); } }, ["Cancel"]);
        var confirm = el("button", { type: "button", class: "primary danger", part: "button danger", onclick: function () { done(true); } }, [
          confirmLabel
        ]);
        dialog.replaceChildren(
          el("h2", { id: id + "dlg-title" }, [title]),
          el("p", null, [text]),
          el("div", { class: "actions" }, [cancel, confirm])
        );
        dialog.addEventListener("close", onClose);
        dialog.showModal();
        cancel.focus();
      });
    }

    _setBusy(busy) {
      this._busy = busy;
      // aria-disabled rather than disabled: a disabled button would drop the keyboard focus.
      this._view.querySelectorAll("button[data-act]").forEach(function (b) {
        if (busy) b.setAttribute("aria-disabled", "true");
        else b.removeAttribute("aria-disabled");
      });
    }

    /** Runs one change: ignores clicks while another runs, clears the old refusal for its key. */
    async _run(key, fn) {
      if (this._busy) return;
      delete this._rowErrors[key];
      this._setBusy(true);
      try {
        await fn();
      } finally {
        this._setBusy(false);
      }
    }

    // ---- Rendering ----

    _renderAll() {
      ["header", "members", "invite", "invites", "joins", "domains"].forEach(this._render, this);
    }

    /** Rebuilds one section, keeping the keyboard focus on the control with the same data-key. */
    _render(name) {
      var box = this._boxes[name];
      var active = this._root.activeElement;
      var key = active && box.contains(active) ? active.getAttribute("data-key") : null;
      var build = this["_build_" + name];
      var content = build.call(this);
      if (name === "invite") return; // the form is kept, not rebuilt: it holds what the user typed
      box.replaceChildren.apply(box, content ? [content] : []);
      if (key) {
        var again = box.querySelector('[data-key="' + CSS_escape(key) + '"]');
        // On the last (or first) page the button just used is disabled: the other one takes the focus.
        if ((!again || again.disabled) && /:(prev|next)$/.test(key)) again = box.querySelector(".pager button:not([disabled])");
        if (again && !again.disabled) again.focus();
        else {
          var heading = box.querySelector("h2,h3");
          if (heading) heading.focus();
        }
      }
    }

    _section(name, title, children) {
      return el("section", { part: "section", "aria-labelledby": this._id + name }, [
        el("h2", { id: this._id + name, part: "heading", tabindex: "-1" }, [title])
      ].concat(children));
    }

    _pagerControls(list, name, noun) {
      if (list.index === 0 && !list.next) return null;
      var self = this;
      var turn = function (delta) {
        return function () {
          if (delta > 0) list.cursors[list.index + 1] = list.next;
          list.index += delta;
          self._reload(name);
        };
      };
      return el("nav", { class: "pager", "aria-label": noun + " pages" }, [
        el("button", { type: "button", part: "button", "data-key": name + ":prev", disabled: list.index === 0, onclick: turn(-1) }, ["Previous"]),
        el("span", { class: "muted small" }, ["Page " + (list.index + 1)]),
        el("button", { type: "button", part: "button", "data-key": name + ":next", disabled: !list.next, onclick: turn(1) }, ["Next"])
      ]);
    }

    _build_header() {
      if (this._phase === "loading") return el("p", { class: "muted", role: "status" }, ["Loading\u2026"]);
      if (this._phase === "left") return el("p", { class: "ok" }, [this._message]);
      if (this._phase !== "ready") return el("p", { class: "error", part: "error" }, [this._message]);
      return el("div", null, [
        el("h2", { part: "heading" }, [this._org.name]),
        el("p", { class: "muted" }, ["Your role: " + roleName(this._org.role)])
      ]);
    }

    // ---- Members ----

    _build_members() {
      if (this._phase !== "ready") return null;
      var self = this;
      var role = this._org.role;
      var list = this._members;
      if (!can(role, "members:read") || list.forbidden) {
        // Guests see the organization's name only (API 403 for the member list); they may still leave.
        return this._section("members", "Members", [
          el("p", { class: "muted" }, ["Your role (" + roleName(role) + ") does not include seeing the member list."]),
          el("div", { class: "actions" }, [
            el("button", { type: "button", class: "danger", part: "button danger", "data-act": "", "data-key": "leave", onclick: function () { self._leave(); } }, [
              "Leave organization"
            ])
          ]),
          el("p", { class: "error", part: "error" }, [this._rowErrors["member:" + this._me.id] || ""])
        ]);
      }
      var rows = list.rows.map(function (m) {
        return self._memberRow(m);
      });
      return this._section("members", "Members", [
        list.error ? el("p", { class: "error", part: "error" }, [list.error]) : null,
        el("div", { class: "scroll" }, [
          el("table", { part: "table" }, [
            el("thead", null, [el("tr", null, [el("th", { scope: "col" }, ["Person"]), el("th", { scope: "col" }, ["Role"]), el("th", { scope: "col" }, ["Joined"]), el("th", { scope: "col" }, [el("span", { class: "sr" }, ["Actions"])])])]),
            el("tbody", null, rows)
          ])
        ]),
        this._pagerControls(list, "members", "Member")
      ]);
    }

    _memberRow(m) {
      var self = this;
      var viewer = this._org.role;
      var isMe = m.userId === this._me.id;
      var mayAct = !isMe && canActOn(viewer, m.role);
      var name = personName(m);
      var key = "member:" + m.userId;
      var roleCell;
      if (mayAct && can(viewer, "members:update_role")) {
        var draft = this._drafts[key] || m.role;
        var select = el(
          "select",
          { part: "select", "aria-label": "Role of " + name, "data-key": key + ":role", onchange: function () {
            self._drafts[key] = select.value;
            save.hidden = select.value === m.role;
          } },
          grantable(viewer).map(function (r) {
            return el("option", { value: r, selected: r === draft }, [roleName(r)]);
          })
        );
        var save = el(
          "button",
          { type: "button", class: "primary", part: "button primary", "data-act": "", "data-key": key + ":save", hidden: draft === m.role,
            "aria-label": "Save the role of " + name, onclick: function () { self._changeRole(m, select.value); } },
          ["Save"]
        );
        roleCell = el("div", { class: "actions" }, [select, save]);
      } else {
        roleCell = roleName(m.role);
      }
      var actions = [];
      if (isMe) {
        actions.push(el("button", { type: "button", class: "danger", part: "button danger", "data-act": "", "data-key": "leave", onclick: function () { self._leave(); } }, ["Leave"]));
      } else if (mayAct && can(viewer, "members:remove")) {
        actions.push(
          el("button", { type: "button", class: "danger", part: "button danger", "data-act": "", "data-key": key + ":remove", "aria-label": "Remove " + name,
            onclick: function () { self._remove(m); } }, ["Remove"])
        );
      }
      var error = this._rowErrors[key];
      return el("tr", { part: "row", "data-user-id": m.userId }, [
        el("td", null, [el("strong", null, [m.name || m.email || m.userId]), isMe ? " (you)" : null, m.name && m.email ? el("span", { class: "sub" }, [m.email]) : null,
          error ? el("span", { class: "sub error", part: "error" }, [error]) : null]),
        el("td", null, [roleCell]),
        el("td", { class: "muted small" }, [dateText(m.joinedAt)]),
        el("td", null, [el("div", { class: "actions" }, actions)])
      ]);
    }

    _changeRole(m, role) {
      var self = this;
      var key = "member:" + m.userId;
      return this._run(key, async function () {
        var res = await self._api("PATCH", self._orgPath("/members/" + encodeURIComponent(m.userId)), { role: role });
        if (!res.ok) {
          delete self._drafts[key];
          if (res.code === "NOT_FOUND") await self._reload("members");
          self._refuse(key, "role", res, "members");
          return;
        }
        delete self._drafts[key];
        var before = m.role;
        m.role = res.body.role;
        self._render("members");
        self._changed({ action: "member.role_changed", member: res.body, from: before }, personName(m) + " is now " + roleName(m.role) + ".");
      });
    }

    async _remove(m) {
      if (this._busy) return;
      var name = personName(m);
      var org = this._org.name;
      if (!(await this._confirm("Remove " + name + "?", name + " will lose access to " + org + " and all of its projects.", "Remove"))) return;
      var self = this;
      var key = "member:" + m.userId;
      await this._run(key, async function () {
        var res = await self._api("DELETE", self._orgPath("/members/" + encodeURIComponent(m.userId)));
        if (!res.ok) {
          self._refuse(key, "remove", res, "members");
          return;
        }
        await self._reload("members");
        self._focusHeading("members");
        self._changed({ action: "member.removed", member: m }, name + " was removed from " + org + ".");
      });
    }

    async _leave() {
      if (this._busy) return;
      var org = this._org.name;
      if (!(await this._confirm("Leave " + org + "?", "You will lose access to " + org + " and all of its projects.", "Leave"))) return;
      var self = this;
      var key = "member:" + this._me.id;
      await this._run(key, async function () {
        var res = await self._api("DELETE", self._orgPath("/members/" + encodeURIComponent(self._me.id)));
        if (!res.ok) {
          self._refuse(key, "leave", res, "members");
          return;
        }
        var orgId = self._org.id;
        self._reset();
        self._phase = "left";
        self._message = "You left " + org + ".";
        self._renderAll();
        self._changed({ action: "member.left", organizationId: orgId }, "You left " + org + ".");
      });
    }

    _focusHeading(name) {
      var heading = this._boxes[name].querySelector("h2");
      if (heading) heading.focus();
    }

    // ---- Invite form ----

    /** Built once per panel and kept (it holds what the user typed); later calls refresh its options. */
    _build_invite() {
      var box = this._boxes.invite;
      var show = this._phase === "ready" && can(this._org.role, "members:invite");
      if (!show) {
        box.replaceChildren();
        return null;
      }
      if (!this._form) this._form = this._createInviteForm();
      var f = this._form;
      if (!box.contains(f.section)) box.replaceChildren(f.section);
      var keep = f.role.value || "member";
      f.role.replaceChildren.apply(f.role, grantable(this._org.role).map(function (r) {
        return el("option", { value: r, selected: r === keep }, [roleName(r)]);
      }));
      var project = f.project.value;
      f.project.replaceChildren.apply(f.project, [el("option", { value: "" }, ["None \u2014 the organization only"])].concat(
        this._projects.map(function (p) {
          return el("option", { value: p.id, selected: p.id === project }, [p.name]);
        })
      ));
      f.projectField.hidden = this._projects.length === 0;
      this._syncProject();
      return null;
    }

    _createInviteForm() {
      var self = this;
      var id = this._id;
      var f = {};
      f.addresses = el("textarea", { id: id + "addresses", rows: "3", part: "input", autocomplete: "off", spellcheck: "false",
        "aria-describedby": id + "addr-hint " + id + "addr-status", "data-key": "addresses",
        oninput: function () { self._checkAddresses(false); } });
      f.chips = el("ul", { class: "chips", "aria-label": "Addresses to invite" });
      f.status = el("p", { id: id + "addr-status", class: "small muted" });
      f.strip = el("button", { type: "button", part: "button", hidden: true, onclick: function () {
        f.addresses.value = parseAddresses(f.addresses.value).filter(function (a) { return a.valid; }).map(function (a) { return a.value; }).join(", ");
        self._checkAddresses(false);
        f.addresses.focus();
      } }, ["Remove invalid addresses"]);
      f.role = el("select", { id: id + "role", part: "select" });
      f.roleLabel = el("label", { for: id + "role" }, ["Role"]);
      f.project = el("select", { id: id + "project", part: "select", onchange: function () { self._syncProject(); } });
      f.projectField = el("div", null, [el("label", { for: id + "project" }, ["Project (optional)"]), f.project]);
      f.projectRole = el("select", { id: id + "project-role", part: "select" }, PROJECT_ROLES.map(function (r) {
        return el("option", { value: r, selected: r === "viewer" }, [PROJECT_ROLE_NAMES[r]]);
      }));
      f.projectRoleField = el("div", { hidden: true }, [el("label", { for: id + "project-role" }, ["Project role"]), f.projectRole]);
      f.error = el("p", { class: "error", part: "error", id: id + "invite-error" });
      f.results = el("div");
      f.submit = el("button", { type: "submit", class: "primary", part: "button primary", "data-act": "" }, ["Send invitations"]);
      f.form = el("form", { novalidate: true, onsubmit: function (event) {
        event.preventDefault();
        self._sendInvites();
      } }, [
        el("label", { for: id + "addresses" }, ["Email addresses"]),
        el("p", { id: id + "addr-hint", class: "small muted" }, ["Paste or type up to 50 addresses, separated by commas, spaces, semicolons or new lines."]),
        f.addresses,
        f.chips,
        f.status,
        f.strip,
        el("div", { class: "fields" }, [f.projectField, el("div", null, [f.roleLabel, f.role]), f.projectRoleField]),
        el("p", null, [f.submit]),
        f.error,
        f.results
      ]);
      f.section = el("section", { part: "section", "aria-labelledby": id + "invite" }, [
        el("h2", { id: id + "invite", part: "heading", tabindex: "-1" }, ["Invite people"]),
        f.form
      ]);
      return f;
    }

    _syncProject() {
      var f = this._form;
      var inProject = !!f.project.value;
      f.projectRoleField.hidden = !inProject;
      f.roleLabel.textContent = inProject ? "Organization role (if not a member yet)" : "Role";
    }

    /** Shows each parsed address, invalid ones highlighted; returns the parse when it can be sent. */
    _checkAddresses(submitting) {
      var f = this._form;
      var parsed = parseAddresses(f.addresses.value);
      var invalid = parsed.filter(function (a) { return !a.valid; });
      f.chips.replaceChildren.apply(f.chips, parsed.map(function (a) {
        return el("li", { class: a.valid ? "valid" : "invalid", part: "address" + (a.valid ? "" : " invalid") }, [
          a.value, a.valid ? null : el("span", { class: "sr" }, [" (not a valid address)"])
        ]);
      }));
      var problem = "";
      if (invalid.length > 0) {
        problem = (invalid.length === 1 ? "1 address is" : invalid.length + " addresses are") + " not valid: " +
          invalid.map(function (a) { return a.value; }).join(", ") + ".";
      } else if (parsed.length > MAX_ADDRESSES) {
        problem = "At most " + MAX_ADDRESSES + " addresses at once (" + parsed.length + " entered).";
      }
      f.status.textContent = parsed.length === 0 ? "" : parsed.length + (parsed.length === 1 ? " address" : " addresses") + (problem ? ". " + problem : ".");
      f.status.className = problem ? "small error" : "small muted";
      f.strip.hidden = invalid.length === 0;
      if (problem || (submitting && parsed.length === 0)) {
        f.addresses.setAttribute("aria-invalid", "true");
        if (submitting) f.error.textContent = problem || "Enter at least one email address.";
        return null;
      }
      f.addresses.removeAttribute("aria-invalid");
      f.error.textContent = "";
      return parsed;
    }

    _sendInvites() {
      var self = this;
      var f = this._form;
      var parsed = this._checkAddresses(true);
      if (!parsed) {
        this._announce(f.error.textContent);
        f.addresses.focus();
        return;
      }
      var emails = parsed.map(function (a) { return a.value; });
      var projectId = f.project.value;
      var path = projectId ? "/v1/projects/" + encodeURIComponent(projectId) + "/invites" : this._orgPath("/invites");
      var body = projectId ? { emails: emails, role: f.projectRole.value, orgRole: f.role.value } : { emails: emails, role: f.role.value };
      return this._run("invite", async function () {
        f.results.replaceChildren();
        var res = await self._api("POST", path, body);
        if (!res.ok) {
          f.error.textContent = refusal(res.code, "invite");
          self._announce(f.error.textContent);
          self._fail("invite", res, f.error.textContent);
          return;
        }
        var results = res.body.results || [];
        var counts = {};
        results.forEach(function (r) { counts[r.outcome] = (counts[r.outcome] || 0) + 1; });
        var summary = ["invited", "already_invited", "already_member"].filter(function (o) { return counts[o]; }).map(function (o) {
          return counts[o] + " " + OUTCOMES[o].toLowerCase();
        }).join(", ");
        f.results.replaceChildren(
          el("h3", null, ["Results"]),
          el("ul", { class: "outcomes" }, results.map(function (r) {
            return el("li", { part: "outcome", "data-outcome": r.outcome }, [
              el("span", { class: r.outcome === "invited" ? "ok" : "muted" }, [r.outcome === "invited" ? "\u2713 " : "\u2022 "]),
              r.email + " \u2014 " + (OUTCOMES[r.outcome] || r.outcome)
            ]);
          }))
        );
        f.addresses.value = "";
        self._checkAddresses(false);
        f.addresses.focus();
        self._polls = 0;
        if (can(self._org.role, "invites:read")) self._reload("invites");
        self._changed({ action: "invites.created", results: results }, "Invitations sent: " + summary + ".");
      });
    }

    // ---- Invitations ----

    _build_invites() {
      if (this._phase !== "ready" || !can(this._org.role, "invites:read")) return null;
      var self = this;
      var list = this._invites;
      var id = this._id;
      var filter = el("select", { id: id + "inv-status", part: "select", "data-key": "invites:status", onchange: function () {
        list.status = filter.value;
        list.cursors = [null];
        list.index = 0;
        self._reload("invites");
      } }, Object.keys(STATUSES).map(function (s) {
        return el("option", { value: s, selected: s === list.status }, [STATUSES[s]]);
      }));
      var body = list.rows.length === 0
        ? el("p", { class: "muted" }, [list.error ? "" : "No " + STATUSES[list.status].toLowerCase() + " invitations."])
        : el("div", { class: "scroll" }, [el("table", { part: "table" }, [
            el("thead", null, [el("tr", null, ["Email", "Role", "Source", "Delivery", "Expires"].map(function (h) {
              return el("th", { scope: "col" }, [h]);
            }).concat([el("th", { scope: "col" }, [el("span", { class: "sr" }, ["Actions"])])]))]),
            el("tbody", null, list.rows.map(function (i) { return self._inviteRow(i); }))
          ])]);
      return this._section("invites", "Invitations", [
        el("div", { class: "fields" }, [el("div", null, [el("label", { for: id + "inv-status" }, ["Status"]), filter])]),
        list.error ? el("p", { class: "error", part: "error" }, [list.error]) : null,
        body,
        this._pagerControls(list, "invites", "Invitation")
      ]);
    }

    _inviteRow(invite) {
      var self = this;
      var key = "invite:" + invite.id;
      var project = invite.projectId ? this._projects.filter(function (p) { return p.id === invite.projectId; })[0] : null;
      var role = invite.projectId
        ? [PROJECT_ROLE_NAMES[invite.projectRole] || invite.projectRole, " in ", project ? project.name : "a project",
           el("span", { class: "sub" }, ["Organization: " + roleName(invite.role)])]
        : [roleName(invite.role)];
      var d = invite.delivery || { status: "queued" };
      var delivery = d.status === "sent"
        ? [el("span", { class: "badge sent" }, ["Sent"]), d.sentAt ? el("span", { class: "sub" }, [dateText(d.sentAt)]) : null]
        : d.status === "failed"
          ? [el("span", { class: "badge failed" }, ["Failed"]), el("span", { class: "sub" }, [d.lastError || "No reason given"])]
          : [el("span", { class: "badge" }, ["Queued"])];
      var source = (invite.source || "email") === "owner_add" ? "Added, awaiting consent" : "Email";
      var actions = [];
      if (invite.status === "pending" || invite.status === "expired") {
        actions.push(el("button", { type: "button", part: "button", "data-act": "", "data-key": key + ":resend", "aria-label": "Resend the invitation to " + invite.email,
          onclick: function () { self._resend(invite); } }, ["Resend"]));
      }
      if (invite.status === "pending") {
        actions.push(el("button", { type: "button", class: "danger", part: "button danger", "data-act": "", "data-key": key + ":revoke", "aria-label": "Revoke the invitation to " + invite.email,
          onclick: function () { self._revoke(invite); } }, ["Revoke"]));
      }
      var error = this._rowErrors[key];
      return el("tr", { part: "row", "data-invite-id": invite.id }, [
        el("td", null, [invite.email, error ? el("span", { class: "sub error", part: "error" }, [error]) : null]),
        el("td", null, role),
        el("td", null, [source]),
        el("td", { "data-delivery": d.status }, delivery),
        el("td", { class: "small" }, [dateText(invite.expiresAt)]),
        el("td", null, [el("div", { class: "actions" }, actions)])
      ]);
    }

    _resend(invite) {
      var self = this;
      var key = "invite:" + invite.id;
      return this._run(key, async function () {
        var res = await self._api("POST", "/v1/invites/" + encodeURIComponent(invite.id) + "/resend");
        if (!res.ok) {
          self._refuse(key, "resend", res, "invites");
          return;
        }
        var rows = self._invites.rows;
        var at = rows.indexOf(invite);
        if (self._invites.status === "pending" && at !== -1) rows[at] = res.body;
        self._polls = 0;
        if (self._invites.status === "pending") {
          self._render("invites");
          self._schedulePoll();
        } else {
          await self._reload("invites");
        }
        self._changed({ action: "invite.resent", invite: res.body }, "The invitation to " + invite.email + " was sent again.");
      });
    }

    async _revoke(invite) {
      if (this._busy) return;
      if (!(await this._confirm("Revoke the invitation to " + invite.email + "?", "The link in the email stops working. You can invite the address again later.", "Revoke"))) return;
      var self = this;
      var key = "invite:" + invite.id;
      await this._run(key, async function () {
        var res = await self._api("DELETE", "/v1/invites/" + encodeURIComponent(invite.id));
        if (!res.ok) {
          self._refuse(key, "revoke", res, "invites");
          return;
        }
        await self._reload("invites");
        self._focusHeading("invites");
        self._changed({ action: "invite.revoked", invite: invite }, "The invitation to " + invite.email + " was revoked.");
      });
    }

    // ---- Join requests ----

    _build_joins() {
      var list = this._joins;
      if (this._phase !== "ready" || !can(this._org.role, "members:invite") || list.hidden) return null;
      var self = this;
      var content = list.rows.length === 0
        ? el("p", { class: "muted" }, [list.error || "No pending requests."])
        : el("div", { class: "scroll" }, [el("table", { part: "table" }, [
            el("thead", null, [el("tr", null, ["Person", "Message", "Requested", "Role"].map(function (h) {
              return el("th", { scope: "col" }, [h]);
            }).concat([el("th", { scope: "col" }, [el("span", { class: "sr" }, ["Actions"])])]))]),
            el("tbody", null, list.rows.map(function (r) { return self._joinRow(r); }))
          ])]);
      var notice = list.notice ? el("p", { class: "error", part: "error", "data-notice": "" }, [list.notice]) : null;
      return this._section("joins", "Join requests", [notice, content, this._pagerControls(list, "joins", "Join request")]);
    }

    _joinRow(request) {
      var self = this;
      var key = "join:" + request.id;
      var name = personName(request.user);
      var select = el("select", { part: "select", "aria-label": "Role for " + name, "data-key": key + ":role",
        onchange: function () { self._drafts[key] = select.value; } },
        grantable(this._org.role).map(function (r) {
          return el("option", { value: r, selected: r === (self._drafts[key] || "member") }, [roleName(r)]);
        }));
      var error = this._rowErrors[key];
      return el("tr", { part: "row", "data-request-id": request.id }, [
        el("td", null, [el("strong", null, [name]), request.user.name && request.user.email ? el("span", { class: "sub" }, [request.user.email]) : null,
          error ? el("span", { class: "sub error", part: "error" }, [error]) : null]),
        el("td", { class: "small" }, [request.message || el("span", { class: "muted" }, ["\u2014"])]),
        el("td", { class: "small" }, [dateText(request.createdAt)]),
        el("td", null, [select]),
        el("td", null, [el("div", { class: "actions" }, [
          el("button", { type: "button", class: "primary", part: "button primary", "data-act": "", "data-key": key + ":approve", "aria-label": "Approve " + name,
            onclick: function () { self._decide(request, "approve", select.value); } }, ["Approve"]),
          el("button", { type: "button", class: "danger", part: "button danger", "data-act": "", "data-key": key + ":deny", "aria-label": "Deny " + name,
            onclick: function () { self._decide(request, "deny"); } }, ["Deny"])
        ])])
      ]);
    }

    _decide(request, decision, role) {
      var self = this;
      var key = "join:" + request.id;
      var name = personName(request.user);
      return this._run(key, async function () {
        var res = await self._api("POST", "/v1/join-requests/" + encodeURIComponent(request.id) + "/" + decision, decision === "approve" ? { role: role } : undefined);
        if (!res.ok) {
          // Decided meanwhile (409) or gone (404): the row is stale, so the list is re-read and the
          // refusal is said above it, where it stays visible after the row has left.
          if (res.code === "CONFLICT" || res.code === "NOT_FOUND") {
            delete self._drafts[key];
            self._joins.notice = refusal(res.code, decision);
            await self._reload("joins");
          }
          self._refuse(key, decision, res, "joins");
          // Refused a role the panel offered: the viewer's own role changed since it loaded.
          if (res.code === "ROLE_ABOVE_OWN") await self._recheckRole();
          return;
        }
        self._joins.notice = "";
        delete self._drafts[key];
        await self._reload("joins");
        if (decision === "approve") await self._reload("members");
        self._focusHeading("joins");
        self._changed(
          { action: decision === "approve" ? "join_request.approved" : "join_request.denied", request: res.body },
          decision === "approve" ? name + " joined as " + roleName(role) + "." : "The request from " + name + " was denied."
        );
      });
    }

    // ---- Domains ----

    _build_domains() {
      var list = this._domains;
      if (this._phase !== "ready" || !can(this._org.role, "domains:read") || list.hidden) return null;
      var self = this;
      var id = this._id;
      var edit = can(this._org.role, "org:update");
      var content = list.rows.length === 0
        ? el("p", { class: "muted" }, [list.error || "No domains yet."])
        : el("div", { class: "scroll" }, [el("table", { part: "table" }, [
            el("thead", null, [el("tr", null, ["Domain", "Enrollment", "Added"].map(function (h) {
              return el("th", { scope: "col" }, [h]);
            }).concat(edit ? [el("th", { scope: "col" }, [el("span", { class: "sr" }, ["Actions"])])] : []))]),
            el("tbody", null, list.rows.map(function (d) { return self._domainRow(d, edit); }))
          ])]);
      var children = [
        el("p", { class: "small muted" }, [
          "People with a verified address at a domain below can ask to join (Request), or join at once as Member (Automatic)."
        ]),
        content
      ];
      if (edit) children.push(this._domainForm(id));
      return this._section("domains", "Domains", children);
    }

    _enrollmentSelect(attrs, value) {
      return el("select", attrs, [
        el("option", { value: "request", selected: value === "request" }, ["Request: an admin approves"]),
        el("option", { value: "auto", selected: value === "auto" }, ["Automatic: join at once as Member"])
      ]);
    }

    _domainRow(d, edit) {
      var self = this;
      var key = "domain:" + d.domain;
      var error = this._rowErrors[key];
      var enrollment = d.enrollment === "auto" ? "Automatic" : "Request";
      if (edit) {
        var select = this._enrollmentSelect({ part: "select", "aria-label": "Enrollment for " + d.domain, "data-key": key + ":enrollment",
          onchange: function () { self._setEnrollment(d, select.value); } }, d.enrollment);
        enrollment = select;
      }
      return el("tr", { part: "row", "data-domain": d.domain }, [
        el("td", null, [el("strong", null, [d.domain]), error ? el("span", { class: "sub error", part: "error" }, [error]) : null]),
        el("td", null, [enrollment]),
        el("td", { class: "small" }, [dateText(d.createdAt)]),
        edit ? el("td", null, [el("button", { type: "button", class: "danger", part: "button danger", "data-act": "", "data-key": key + ":remove", "aria-label": "Remove " + d.domain,
          onclick: function () { self._removeDomain(d); } }, ["Remove"])]) : null
      ]);
    }

    _domainForm(id) {
      var self = this;
      var drafts = this._drafts;
      // The form is rebuilt with the section: what was typed survives a refusal.
      var input = el("input", { id: id + "domain", type: "text", part: "input", autocomplete: "off", spellcheck: "false", placeholder: "example.com",
        "aria-describedby": id + "domain-rule", "data-key": "domain:new", value: drafts["domain:new"] || "",
        oninput: function () { drafts["domain:new"] = input.value; } });
      var enrollment = this._enrollmentSelect({ id: id + "domain-enrollment", part: "select", "data-key": "domain:new-enrollment",
        onchange: function () { drafts["domain:new-enrollment"] = enrollment.value; } }, drafts["domain:new-enrollment"] || "request");
      var error = el("p", { class: "error", part: "error" }, [this._rowErrors["domain:new"] || ""]);
      return el("form", { novalidate: true, "aria-label": "Add a domain", onsubmit: function (event) {
        event.preventDefault();
        self._addDomain(input.value.trim(), enrollment.value);
      } }, [
        el("h3", null, ["Add a domain"]),
        el("p", { id: id + "domain-rule", class: "small muted" }, [
          "You can add a domain only where your own email address is verified (jane@acme.com may add acme.com). " +
          "Free-mail and public domains such as gmail.com or outlook.com cannot be added."
        ]),
        el("div", { class: "fields" }, [
          el("div", null, [el("label", { for: id + "domain" }, ["Domain"]), input]),
          el("div", null, [el("label", { for: id + "domain-enrollment" }, ["Enrollment"]), enrollment]),
          el("div", null, [el("button", { type: "submit", class: "primary", part: "button primary", "data-act": "", "data-key": "domain:add" }, ["Add domain"])])
        ]),
        error
      ]);
    }

    _addDomain(domain, enrollment) {
      var self = this;
      if (!domain) return;
      return this._run("domain:new", async function () {
        var res = await self._api("POST", self._orgPath("/domains"), { domain: domain, enrollment: enrollment });
        if (!res.ok) {
          self._refuse("domain:new", "domain", res, "domains");
          return;
        }
        delete self._drafts["domain:new"];
        await self._reload("domains");
        self._changed({ action: "domain.added", domain: res.body }, res.body.domain + " was added.");
      });
    }

    _setEnrollment(d, enrollment) {
      var self = this;
      var key = "domain:" + d.domain;
      return this._run(key, async function () {
        var res = await self._api("PATCH", self._orgPath("/domains/" + encodeURIComponent(d.domain)), { enrollment: enrollment });
        if (!res.ok) {
          self._refuse(key, "domain", res, "domains");
          return;
        }
        await self._reload("domains");
        self._changed({ action: "domain.updated", domain: res.body }, d.domain + ": enrollment is now " + (enrollment === "auto" ? "automatic" : "by request") + ".");
      });
    }

    async _removeDomain(d) {
      if (this._busy) return;
      if (!(await this._confirm("Remove " + d.domain + "?", "People at " + d.domain + " will no longer see this organization in their suggestions. Members stay members.", "Remove"))) return;
      var self = this;
      var key = "domain:" + d.domain;
      await this._run(key, async function () {
        var res = await self._api("DELETE", self._orgPath("/domains/" + encodeURIComponent(d.domain)));
        if (!res.ok) {
          self._refuse(key, "domain", res, "domains");
          return;
        }
        await self._reload("domains");
        self._focusHeading("domains");
        self._changed({ action: "domain.removed", domain: d }, d.domain + " was removed.");
      });
    }
  }

  function CSS_escape(value) {
    return window.CSS && window.CSS.escape ? window.CSS.escape(value) : String(value).replace(/["\\]/g, "\\$&");
  }

  customElements.define("roster-organization", RosterOrganization);
})();
`;
