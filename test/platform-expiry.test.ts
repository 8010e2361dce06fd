import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { runExpiryJob } from "../workers/cron-expiry";
import { seedUser } from "./helpers";
import { api } from "./invite-helpers";

async function statusOf(id: string) {
  return await env.DB.prepare("SELECT status FROM platform_invitations WHERE id = ?").bind(id).first("status");
}

describe("the hourly job and platform invitations", () => {
  it("expires pending ones past expiry (freeing the quota), purges finished ones past retention, keeps accepted ones; twice is harmless", async () => {
    const inviter = await seedUser();
    const vars = { PLATFORM_INVITES_PER_USER: "3" };
    const emails = ["due", "fresh", "old-revoked", "old-accepted"].map(
      (p) => `${p}-${crypto.randomUUID()}@example.com`,
    );
    const res = await api("POST", "/v1/platform/invitations", {
      as: inviter.id,
      body: { emails: emails.slice(0, 3) },
      vars,
    });
    expect(res.status, res.text).toBe(201);
    const [due, fresh, revoked] = res.body.results.map((r: any) => r.invitation.id as string);
    const now = Date.now();
    const old = now - 8 * 86_400_000;
    await env.DB.batch([
      env.DB.prepare("UPDATE platform_invitations SET expires_at = ? WHERE id = ?").bind(now - 1, due),
      env.DB.prepare("UPDATE platform_invitations SET status = 'revoked', updated_at = ? WHERE id = ?").bind(
        old,
        revoked,
      ),
    ]);
    // An expired invitation frees its place at once, before the job marks it.
    expect((await api("GET", "/v1/me", { as: inviter.id, vars })).body.user.invitationsLeft).toBe(2);
    const first = await runExpiryJob(env, now);
    expect(first.expiredPlatformInvitations).toBeGreaterThanOrEqual(1);
    expect(await statusOf(due)).toBe("expired");
    expect(await statusOf(fresh)).toBe("pending");
    expect(await statusOf(revoked)).toBeNull();
    const again = await runExpiryJob(env, now);
    expect(await statusOf(due)).toBe("expired");
    expect(again.complete).toBe(true);
    const later = await runExpiryJob(env, now + 8 * 86_400_000);
    expect(later.complete).toBe(true);
    expect(await statusOf(due)).toBeNull();
  });
});
