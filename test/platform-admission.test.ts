import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectProblem, seedOrg, seedUser } from "./helpers";
import { api, inviteRow, seedInvite } from "./invite-helpers";
import { accessOf, activeCount, seedUserWith } from "./platform-helpers";

async function membership(orgId: string, userId: string) {
  return await env.DB.prepare("SELECT role FROM organization_users WHERE organization_id = ? AND user_id = ?")
    .bind(orgId, userId)
    .first("role");
}

describe("accepting an organization invite admits a waitlisted caller", () => {
  it("within the cap: member and active, with user.admitted; still one round trip", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const invitee = await seedUserWith("waitlisted");
    const invite = await seedInvite({ orgId: org.id, email: invitee.email, invitedBy: owner.id });
    const counter = { trips: 0 };
    const res = await api("POST", `/v1/invites/${invite.id}/accept`, {
      as: invitee.id,
      vars: { SIGNUP_MODE: "invite_only" },
      counter,
    });
    expect(res.status, res.text).toBe(200);
    expect(counter.trips).toBe(1);
    expect(await accessOf(invitee.id)).toBe("active");
    expect(await membership(org.id, invitee.id)).toBe("member");
    const admitted = await env.DB.prepare(
      "SELECT data FROM audit_events WHERE action = 'user.admitted' AND target_id = ?",
    )
      .bind(invitee.id)
      .all<{ data: string }>();
    expect(admitted.results.map((r) => JSON.parse(r.data))).toEqual([{ via: "invite" }]);
    // Admitted, they use the rest of the API.
    expect((await api("GET", `/v1/organizations/${org.id}`, { as: invitee.id })).status).toBe(200);
  });

  it("beyond the cap: 409 SIGNUP_CAP_REACHED and nothing changes (invite pending, no membership)", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const invitee = await seedUserWith("waitlisted");
    const invite = await seedInvite({ orgId: org.id, email: invitee.email, invitedBy: owner.id });
    const vars = { SIGNUP_CAP: String(await activeCount()) };
    expectProblem(
      await api("POST", "/v1/invites/accept", { as: invitee.id, body: { token: invite.token }, vars }),
      409,
      "SIGNUP_CAP_REACHED",
    );
    expect((await inviteRow(invite.id)).status).toBe("pending");
    expect(await membership(org.id, invitee.id)).toBeNull();
    expect(await accessOf(invitee.id)).toBe("waitlisted");
    // An active caller is not held by a full cap.
    const active = await seedUser();
    const other = await seedInvite({ orgId: org.id, email: active.email, invitedBy: owner.id });
    expect((await api("POST", `/v1/invites/${other.id}/accept`, { as: active.id, vars })).status).toBe(200);
  });

  it("a refused accept (expired) neither admits nor reports the cap", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const invitee = await seedUserWith("waitlisted");
    const invite = await seedInvite({
      orgId: org.id,
      email: invitee.email,
      invitedBy: owner.id,
      expiresAt: Date.now() - 1000,
    });
    const vars = { SIGNUP_CAP: String(await activeCount()) };
    expectProblem(
      await api("POST", `/v1/invites/${invite.id}/accept`, { as: invitee.id, vars }),
      410,
      "INVITE_EXPIRED",
    );
    expect(await accessOf(invitee.id)).toBe("waitlisted");
  });
});
