import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for Clerk's Backend API on 127.0.0.1, for the tests (there is no network to Clerk
 * here). It implements the few endpoints Roster calls through @clerk/backend, the way Clerk
 * answers them — JSON with `Content-Type: application/json`, errors as
 * `{errors: [{code, message, long_message, meta}], clerk_trace_id}`:
 *
 *   POST /v1/invitations              create (body checked field by field)
 *   POST /v1/invitations/{id}/revoke  revoke (400 when it is not pending, 404 when unknown)
 *   GET  /v1/users/{id}               a user the test registered (PUT /__control/users/{id})
 *
 * Every /v1 request must carry `Authorization: Bearer <the secret key>` (else 401). The invitee's
 * address scripts failures, like the SMTP sink's:
 *   clerk422-…     create answers 422 form_param_format_invalid, every time
 *   clerk503-…     create answers 503, every time
 *   clerkflaky-…   create answers 503 the first time this address is tried, then succeeds
 *   revokeflaky-…  revoke answers 503 the first time for this invitation, then succeeds
 *
 * GET /__control/requests lists what it received (method, path, authorization, body), and
 * GET /__control/invitations the invitations it holds, for the tests to check.
 */
export interface StandInRequest {
  method: string;
  path: string;
  authorization: string | null;
  body: unknown;
  status: number;
}

export interface StandInInvitation {
  object: "invitation";
  id: string;
  email_address: string;
  public_metadata: Record<string, unknown>;
  redirect_url: string;
  notify: boolean;
  expires_at: number;
  status: "pending" | "accepted" | "revoked" | "expired";
  revoked: boolean;
  url: string;
  created_at: number;
  updated_at: number;
}

export async function startClerkBackend(secretKey: string) {
  const requests: StandInRequest[] = [];
  const invitations = new Map<string, StandInInvitation>();
  const users = new Map<string, unknown>();
  const tries = new Map<string, number>();

  function tried(key: string): number {
    const n = (tries.get(key) ?? 0) + 1;
    tries.set(key, n);
    return n;
  }

  function clerkError(status: number, code: string, message: string, longMessage = message, paramName?: string) {
    return {
      status,
      body: {
        errors: [{ code, message, long_message: longMessage, meta: paramName ? { param_name: paramName } : {} }],
        clerk_trace_id: `trace_${randomBytes(8).toString("hex")}`,
      },
    };
  }

  function createInvitation(body: unknown): { status: number; body: unknown } {
    if (typeof body !== "object" || body === null) return clerkError(400, "request_body_invalid", "Invalid JSON body");
    const b = body as Record<string, unknown>;
    const expected = [
      "email_address",
      "redirect_url",
      "public_metadata",
      "notify",
      "ignore_existing",
      "expires_in_days",
    ];
    const unknown = Object.keys(b).filter((k) => !expected.includes(k));
    if (unknown.length > 0) {
      return clerkError(422, "form_param_unknown", "is unknown", `${unknown[0]} is not a valid parameter`, unknown[0]);
    }
    if (typeof b.email_address !== "string" || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(b.email_address)) {
      return clerkError(
        422,
        "form_param_format_invalid",
        "is invalid",
        "email_address must be a valid email address",
        "email_address",
      );
    }
    if (typeof b.redirect_url !== "string" || !/^https?:\/\//.test(b.redirect_url)) {
      return clerkError(
        422,
        "form_param_format_invalid",
        "is invalid",
        "redirect_url must be an absolute URL",
        "redirect_url",
      );
    }
    if (typeof b.public_metadata !== "object" || b.public_metadata === null) {
      return clerkError(
        422,
        "form_param_format_invalid",
        "is invalid",
        "public_metadata must be an object",
        "public_metadata",
      );
    }
    if (typeof b.notify !== "boolean" || typeof b.ignore_existing !== "boolean") {
      return clerkError(422, "form_param_format_invalid", "is invalid", "notify and ignore_existing must be booleans");
    }
    if (typeof b.expires_in_days !== "number" || !Number.isInteger(b.expires_in_days) || b.expires_in_days < 1) {
      return clerkError(
        422,
        "form_param_format_invalid",
        "is invalid",
        "expires_in_days must be a positive integer",
        "expires_in_days",
      );
    }
    const email = b.email_address.toLowerCase();
    if (email.startsWith("clerk422-")) {
      return clerkError(
        422,
        "form_param_format_invalid",
        "is invalid",
        "email_address is not allowed to receive invitations",
        "email_address",
      );
    }
    if (email.startsWith("clerk503-") || (email.startsWith("clerkflaky-") && tried(`create:${email}`) === 1)) {
      return clerkError(503, "service_unavailable", "Service unavailable", "Clerk is temporarily unavailable");
    }
    // Without ignore_existing Clerk refuses an address it already invited.
    const pending = [...invitations.values()].some((i) => i.email_address === email && i.status === "pending");
    if (pending && b.ignore_existing !== true) {
      return clerkError(
        422,
        "duplicate_record",
        "duplicate invitation",
        "There is already a pending invitation for this email address",
        "email_address",
      );
    }
    const now = Date.now();
    const id = `inv_${randomBytes(12).toString("hex")}`;
    const invitation: StandInInvitation = {
      object: "invitation",
      id,
      email_address: email,
      public_metadata: b.public_metadata as Record<string, unknown>,
      redirect_url: b.redirect_url,
      notify: b.notify,
      expires_at: now + b.expires_in_days * 86_400_000,
      status: "pending",
      revoked: false,
      url: `https://accounts.roster.test/sign-up?__clerk_ticket=ticket_${id}`,
      created_at: now,
      updated_at: now,
    };
    invitations.set(id, invitation);
    return { status: 200, body: invitation };
  }

  function revokeInvitation(id: string): { status: number; body: unknown } {
    const invitation = invitations.get(id);
    if (invitation === undefined) return clerkError(404, "resource_not_found", "not found", "Invitation not found");
    if (invitation.email_address.startsWith("revokeflaky-") && tried(`revoke:${id}`) === 1) {
      return clerkError(503, "service_unavailable", "Service unavailable", "Clerk is temporarily unavailable");
    }
    if (invitation.status !== "pending") {
      return clerkError(
        400,
        "invitation_not_pending",
        "not pending",
        `Only pending invitations can be revoked (this one is ${invitation.status})`,
      );
    }
    invitation.status = "revoked";
    invitation.revoked = true;
    invitation.updated_at = Date.now();
    return { status: 200, body: invitation };
  }

  function route(method: string, path: string, body: unknown): { status: number; body: unknown } {
    if (method === "POST" && path === "/v1/invitations") return createInvitation(body);
    const revoke = /^\/v1\/invitations\/([^/]+)\/revoke$/.exec(path);
    if (method === "POST" && revoke) return revokeInvitation(decodeURIComponent(revoke[1] as string));
    const user = /^\/v1\/users\/([^/]+)$/.exec(path);
    if (method === "GET" && user) {
      const found = users.get(decodeURIComponent(user[1] as string));
      return found === undefined
        ? clerkError(404, "resource_not_found", "not found", "User not found")
        : { status: 200, body: found };
    }
    return clerkError(404, "resource_not_found", "not found", `No route ${method} ${path}`);
  }

  function send(res: ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  }

  async function readJson(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    if (text === "") return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return { __invalid_json: text };
    }
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const method = req.method ?? "GET";
    const body = await readJson(req);

    if (url.pathname.startsWith("/__control/")) {
      if (method === "GET" && url.pathname === "/__control/requests") return send(res, 200, requests);
      if (method === "GET" && url.pathname === "/__control/invitations")
        return send(res, 200, [...invitations.values()]);
      const user = /^\/__control\/users\/([^/]+)$/.exec(url.pathname);
      if (method === "PUT" && user) {
        users.set(decodeURIComponent(user[1] as string), body);
        return send(res, 204, null);
      }
      return send(res, 404, { error: "no such control endpoint" });
    }

    const authorization = req.headers.authorization ?? null;
    let answer: { status: number; body: unknown };
    if (authorization !== `Bearer ${secretKey}`) {
      answer = clerkError(
        401,
        "authentication_invalid",
        "Invalid authentication",
        "The secret key provided is invalid",
      );
    } else if (method === "POST" && body !== undefined && req.headers["content-type"] !== "application/json") {
      answer = clerkError(400, "request_body_invalid", "Content-Type must be application/json");
    } else {
      answer = route(method, url.pathname, body);
    }
    requests.push({ method, path: url.pathname, authorization, body: body ?? null, status: answer.status });
    send(res, answer.status, answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
