import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectProblem, seedUser, uid } from "./helpers";
import { api, spyQueue } from "./invite-helpers";
import { accessOf, activeCount, seedUserWith } from "./platform-helpers";

const address = () => `${uid("guest").toLowerCase()}@example.com`;

/** Sends platform invitations as `as` and returns the response and the raw tokens by address. */
async function send(as: string, emails: string[], vars: Record<string, string>) {
  const queue = spyQueue();
  const res = await api("POST", "/v1/platform/invitations", { as, body: { emails }, vars, queue });
  const tokens = new Map<string, string>();
  const messages = queue.messages as unknown as { invitationId: string; token: string; tokenVersion: number }[];
  for (const r of res.body?.results ?? []) {
    const m = messages.find((x) => x.invitationId === r.invitation?.id);
    if (m) tokens.set(r.email, m.token);
  }
  return { res, tokens, messages };
}

async function platformEvents(type: string, targetId: string) {
  const { results } = await env.DB.prepare(
    `SELECT a.organization_id, a.actor_id, a.data, e.event_id FROM audit_events a JOIN events e ON e.event_id = a.id
     WHERE a.action = ? AND a.target_id = ?`,
  )
    .bind(type, targetId)
    .all<{ organization_id: string | null; actor_id: string; data: string }>();
  return results.map((r) => ({ ...r, data: JSON.parse(r.data) }));
}

describe("platform invitations", () => {
  it("an operator invites: per-address outcomes, one email per invitation, one round trip", async () => {
    const operator = await seedUser();
    const member = await seedUser();
    const vars = { PLATFORM_ADMIN_USER_IDS: operator.id };
    const a = address();
    const counter = { trips: 0 };
    const queue = spyQueue();
    const res = await api("POST", "/v1/platform/invitations", {
      as: operator.id,
      body: { emails: [a, ` ${a.toUpperCase()} `, member.email] },
      vars,
      queue,
      counter,
    });
    expect(res.status, res.text).toBe(201);
    expect(counter.trips).toBe(1);
    expect(res.body.results.map((r: any) => [r.email, r.outcome])).toEqual([
      [a, "invited"],
      [member.email, "already_user"],
    ]);
    expect(res.body.results[0].invitation).toMatchObject({
      email: a,
      status: "pending",
      source: "operator",
      invitedBy: { userId: operator.id },
      acceptedBy: null,
      delivery: { status: "queued", attempts: 0 },
    });
    expect(res.body.results[0].invitation.id).toMatch(/^pinv_/);
    expect(queue.messages).toHaveLength(1);
    const stored = await env.DB.prepare("SELECT token_hash FROM platform_invitations WHERE email = ?")
      .bind(a)
      .first<string>("token_hash");
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(stored).not.toBe((queue.messages[0] as any).token);
    const again = await send(operator.id, [a], vars);
    expect(again.res.body.results[0]).toMatchObject({ outcome: "already_invited", invitation: { email: a } });
    expect(again.messages).toHaveLength(0);
    const created = await platformEvents("platform_invitation.created", res.body.results[0].invitation.id);
    expect(created).toHaveLength(1);
    expect(created[0]?.organization_id).toBeNull();
  });

  it("quota: a user may send PLATFORM_INVITES_PER_USER; more fails whole; 0 is FORBIDDEN", async () => {
    const user = await seedUser();
    const vars = { PLATFORM_INVITES_PER_USER: "3" };
    const first = await send(user.id, [address(), address()], vars);
    expect(first.res.status).toBe(201);
    expect(first.res.body.results[0].invitation.source).toBe("referral");
    expect((await api("GET", "/v1/me", { as: user.id, vars })).body.user.invitationsLeft).toBe(1);
    const over = await send(user.id, [address(), address()], vars);
    expectProblem(over.res, 403, "INVITE_QUOTA_EXCEEDED");
    expect(over.messages).toHaveLength(0);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM platform_invitations WHERE invited_by = ?")
      .bind(user.id)
      .first("n");
    expect(count).toBe(2);
    // Revoking one frees its place.
    const id = first.res.body.results[0].invitation.id;
    expect((await api("DELETE", `/v1/platform/invitations/${id}`, { as: user.id, vars })).status).toBe(204);
    expect((await send(user.id, [address(), address()], vars)).res.status).toBe(201);
    expectProblem((await send(user.id, [address()], {})).res, 403, "FORBIDDEN");
  });

  it("quota under concurrency: 12 concurrent one-address requests against a quota of 3 create exactly 3", async () => {
    const user = await seedUser();
    const vars = { PLATFORM_INVITES_PER_USER: "3" };
    const results = await Promise.all(Array.from({ length: 12 }, () => send(user.id, [address()], vars)));
    expect(results.filter((r) => r.res.status === 201)).toHaveLength(3);
    for (const r of results.filter((r) => r.res.status !== 201)) expectProblem(r.res, 403, "INVITE_QUOTA_EXCEEDED");
    const count = await env.DB.prepare("SELECT count(*) AS n FROM platform_invitations WHERE invited_by = ?")
      .bind(user.id)
      .first("n");
    expect(count).toBe(3);
  });

  it("accept admits a waitlisted invitee, sets referredBy once, records the event; referrals list them", async () => {
    const inviter = await seedUser({ name: "Grace" });
    const vars = { PLATFORM_INVITES_PER_USER: "5", SIGNUP_MODE: "invite_only" };
    const invitee = await seedUserWith("waitlisted");
    const { res, tokens } = await send(inviter.id, [invitee.email], vars);
    const id = res.body.results[0].invitation.id;
    const token = tokens.get(invitee.email) ?? "";

    const preview = await api("POST", "/v1/platform/invitations/preview", { body: { token } });
    expect(preview.body).toMatchObject({ id, invitedBy: { name: "Grace" }, status: "pending" });
    expect(preview.body.emailHint).toMatch(/^.•••@example\.com$/);

    const counter = { trips: 0 };
    const accepted = await api("POST", "/v1/platform/invitations/accept", {
      as: invitee.id,
      body: { token },
      vars,
      counter,
    });
    expect(accepted.status, accepted.text).toBe(200);
    expect(counter.trips).toBe(1);
    expect(accepted.body).toEqual({ user: { id: invitee.id, access: "active", referredBy: inviter.id } });
    const me = await api("GET", "/v1/me", { as: invitee.id, vars });
    expect(me.body.user).toMatchObject({ access: "active", referredBy: inviter.id });
    const events = await platformEvents("platform_invitation.accepted", id);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      organization_id: null,
      actor_id: invitee.id,
      data: { invitationId: id, userId: invitee.id, invitedBy: inviter.id, referredBy: inviter.id, source: "referral" },
    });
    expect(await platformEvents("user.admitted", invitee.id)).toHaveLength(1);
    const referrals = await api("GET", "/v1/me/referrals", { as: inviter.id });
    expect(referrals.body.data).toEqual([
      { userId: invitee.id, name: expect.any(String), joinedAt: expect.any(String) },
    ]);

    // A second invitation from someone else does not change referredBy.
    const other = await seedUser();
    await env.DB.prepare("UPDATE platform_invitations SET status = 'revoked' WHERE id = ?").bind(id).run();
    const second = await send(other.id, [invitee.email], vars);
    // The invitee is an active user now: already_user.
    expect(second.res.body.results[0].outcome).toBe("already_user");
    expectProblem(
      await api("POST", "/v1/platform/invitations/accept", { as: invitee.id, body: { token }, vars }),
      410,
      "INVITE_REVOKED",
    );
  });

  it("every accept refusal changes nothing", async () => {
    const operator = await seedUser();
    const vars = { PLATFORM_ADMIN_USER_IDS: operator.id };
    const invitee = await seedUserWith("waitlisted");
    const stranger = await seedUserWith("waitlisted");
    const unverified = await seedUser({ emails: [{ email: address(), verified: false }] });
    await env.DB.prepare("UPDATE admins SET access = 'waitlisted' WHERE id = ?").bind(unverified.id).run();
    const unverifiedAddress = (
      await env.DB.prepare("SELECT email FROM user_emails WHERE user_id = ? AND verified = 0")
        .bind(unverified.id)
        .first<string>("email")
    )?.toString() as string;
    const { res, tokens } = await send(operator.id, [invitee.email, unverifiedAddress], vars);
    const token = tokens.get(invitee.email) ?? "";
    const accept = (as: string, t: string) =>
      api("POST", "/v1/platform/invitations/accept", { as, body: { token: t }, vars });

    expectProblem(await accept(invitee.id, "x".repeat(43)), 404, "INVITE_NOT_FOUND");
    expectProblem(await accept(stranger.id, token), 403, "INVITE_EMAIL_MISMATCH");
    expectProblem(await accept(unverified.id, tokens.get(unverifiedAddress) ?? ""), 403, "EMAIL_NOT_VERIFIED");
    expect(await accessOf(stranger.id)).toBe("waitlisted");
    expect(await accessOf(unverified.id)).toBe("waitlisted");

    // Cap reached: 409, the invitation stays pending and the invitee waitlisted.
    const cap = String(await activeCount());
    expectProblem(
      await api("POST", "/v1/platform/invitations/accept", {
        as: invitee.id,
        body: { token },
        vars: { ...vars, SIGNUP_CAP: cap },
      }),
      409,
      "SIGNUP_CAP_REACHED",
    );
    expect(await accessOf(invitee.id)).toBe("waitlisted");
    const id = res.body.results[0].invitation.id;
    expect(await env.DB.prepare("SELECT status FROM platform_invitations WHERE id = ?").bind(id).first("status")).toBe(
      "pending",
    );
    expect(await platformEvents("platform_invitation.accepted", id)).toHaveLength(0);

    expect((await accept(invitee.id, token)).status).toBe(200);
    expectProblem(await accept(invitee.id, token), 409, "INVITE_ALREADY_ACCEPTED");

    // Expired.
    const late = await seedUserWith("waitlisted");
    const sent = await send(operator.id, [late.email], vars);
    await env.DB.prepare("UPDATE platform_invitations SET expires_at = ? WHERE email = ?")
      .bind(Date.now() - 1, late.email)
      .run();
    expectProblem(await accept(late.id, sent.tokens.get(late.email) ?? ""), 410, "INVITE_EXPIRED");
    expect(await accessOf(late.id)).toBe("waitlisted");
  });

  it("resend rotates the token (the old link is dead); revoke is soft and idempotent; others get 404", async () => {
    const operator = await seedUser();
    const inviter = await seedUser();
    const someone = await seedUser();
    const vars = { PLATFORM_ADMIN_USER_IDS: operator.id, PLATFORM_INVITES_PER_USER: "2" };
    const a = address();
    const { res, tokens } = await send(inviter.id, [a], vars);
    const id = res.body.results[0].invitation.id;
    const oldToken = tokens.get(a) ?? "";

    expectProblem(
      await api("POST", `/v1/platform/invitations/${id}/resend`, { as: someone.id, vars }),
      404,
      "NOT_FOUND",
    );
    const queue = spyQueue();
    const counter = { trips: 0 };
    const resent = await api("POST", `/v1/platform/invitations/${id}/resend`, { as: inviter.id, vars, queue, counter });
    expect(resent.status, resent.text).toBe(200);
    expect(counter.trips).toBe(1);
    const message = queue.messages[0] as unknown as { token: string; tokenVersion: number };
    expect(message.tokenVersion).toBe(2);
    expectProblem(
      await api("POST", "/v1/platform/invitations/preview", { body: { token: oldToken } }),
      404,
      "INVITE_NOT_FOUND",
    );
    expect((await api("POST", "/v1/platform/invitations/preview", { body: { token: message.token } })).body.id).toBe(
      id,
    );

    // The operator sees it in the list, the inviter too, someone else does not.
    const listed = (as: string, status = "pending") =>
      api("GET", `/v1/platform/invitations?status=${status}&limit=100`, { as, vars }).then((r) =>
        r.body.data.map((i: { id: string }) => i.id),
      );
    expect(await listed(inviter.id)).toEqual([id]);
    expect(await listed(someone.id)).toEqual([]);

    expectProblem(await api("DELETE", `/v1/platform/invitations/${id}`, { as: someone.id, vars }), 404, "NOT_FOUND");
    const revokeCounter = { trips: 0 };
    expect(
      (await api("DELETE", `/v1/platform/invitations/${id}`, { as: operator.id, vars, counter: revokeCounter })).status,
    ).toBe(204);
    expect(revokeCounter.trips).toBe(1);
    expect((await api("DELETE", `/v1/platform/invitations/${id}`, { as: inviter.id, vars })).status).toBe(204);
    expect(await listed(inviter.id, "revoked")).toEqual([id]);
    expect(await platformEvents("platform_invitation.revoked", id)).toHaveLength(1);
    const preview = await api("POST", "/v1/platform/invitations/preview", { body: { token: message.token } });
    expect(preview.body.status).toBe("revoked");
    expectProblem(
      await api("POST", `/v1/platform/invitations/${id}/resend`, { as: inviter.id, vars }),
      410,
      "INVITE_REVOKED",
    );
  });

  it("rate-limited per inviter per hour like invites: over RATE_LIMIT_INVITES_PER_HOUR → 429, nothing created", async () => {
    const operator = await seedUser();
    const vars = { PLATFORM_ADMIN_USER_IDS: operator.id, RATE_LIMIT_INVITES_PER_HOUR: "2" };
    expect((await send(operator.id, [address(), address()], vars)).res.status).toBe(201);
    const over = await send(operator.id, [address()], vars);
    expectProblem(over.res, 429, "RATE_LIMITED");
    expect(Number(over.res.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(over.messages).toHaveLength(0);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM platform_invitations WHERE invited_by = ?")
      .bind(operator.id)
      .first("n");
    expect(count).toBe(2);
    // A resend is an email too: the window is full, so it is refused and the token kept.
    const id = (
      await env.DB.prepare("SELECT id FROM platform_invitations WHERE invited_by = ? LIMIT 1")
        .bind(operator.id)
        .first<{ id: string }>()
    )?.id;
    const resend = await api("POST", `/v1/platform/invitations/${id}/resend`, { as: operator.id, vars });
    expectProblem(resend, 429, "RATE_LIMITED");
    expect(
      await env.DB.prepare("SELECT token_version FROM platform_invitations WHERE id = ?")
        .bind(id)
        .first("token_version"),
    ).toBe(1);
  });

  it("list, referrals and preview are one round trip each", async () => {
    const user = await seedUser();
    for (const [method, path, body] of [
      ["GET", "/v1/platform/invitations"],
      ["GET", "/v1/me/referrals"],
      ["POST", "/v1/platform/invitations/preview", { token: "y".repeat(43) }],
      ["GET", "/v1/me"],
    ] as [string, string, unknown?][]) {
      const counter = { trips: 0 };
      const res = await api(method, path, { as: user.id, body, counter });
      expect(res.status, `${path}: ${res.text}`).toBeLessThan(500);
      expect(counter.trips, path).toBe(1);
    }
  });
});
