import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { inviterLabel } from "../workers/core/invites/views";
import { address, mailTo, only, runQueue } from "./email-helpers";
import { seedOrg, seedUser, uid } from "./helpers";
import { api, invite } from "./invite-helpers";

/**
 * The accept page (POST /v1/invites/preview), the banner (GET /v1/me/invites) and the invitation
 * email name the inviter the same way (issue 9, item 11): their name, else the address others see
 * for them (users.ts `displayEmailSql`: the primary verified one, never an unverified one), through
 * one function, `inviterLabel`. The page used to say "Invited
 * by Someone" where the email said "alice@example.com invited you".
 */
interface Seen {
  preview: string | null;
  banner: string | null;
  subject: string;
  text: string;
}

/** Invites a fresh address from `inviterId` and reads how each surface names the inviter. */
async function howNamed(inviterId: string): Promise<Seen> {
  const org = await seedOrg(inviterId, { name: "Labelled Org" });
  const to = address();
  const { tokens, queue } = await invite(inviterId, { orgId: org.id }, [to]);
  const token = tokens.get(to) as string;
  expect(await runQueue(queue.messages.map((body) => ({ body })))).toEqual([
    { acked: true, retried: false, delaySeconds: undefined },
  ]);
  const mail = only(await mailTo(to));
  const preview = await api("POST", "/v1/invites/preview", { body: { token } });
  expect(preview.status, preview.text).toBe(200);
  const invitee = await seedUser({ email: to });
  const banner = await api("GET", "/v1/me/invites", { as: invitee.id });
  expect(banner.status).toBe(200);
  return {
    preview: preview.body.invitedBy.name,
    banner: banner.body.data[0].invitedBy.name,
    subject: mail.subject ?? "",
    text: mail.text ?? "",
  };
}

describe("the inviter is named the same way on the accept page, the banner and in the email", () => {
  it("an inviter with no name is named by their verified address everywhere (not 'Someone')", async () => {
    const inviter = await seedUser({ name: null });
    const seen = await howNamed(inviter.id);
    expect(seen.preview).toBe(inviter.email);
    expect(seen.banner).toBe(inviter.email);
    expect(seen.subject).toBe(`${inviter.email} invited you to join Labelled Org on Roster`);
  });

  it("an inviter with a name is named by it everywhere", async () => {
    const inviter = await seedUser({ name: "Grace Hopper" });
    const seen = await howNamed(inviter.id);
    expect([seen.preview, seen.banner]).toEqual(["Grace Hopper", "Grace Hopper"]);
    expect(seen.subject).toBe("Grace Hopper invited you to join Labelled Org on Roster");
  });

  it("a blank or multi-line name counts as no name / one line, the same way everywhere", async () => {
    const blank = await seedUser({ name: " \t " });
    const blankSeen = await howNamed(blank.id);
    expect([blankSeen.preview, blankSeen.banner]).toEqual([blank.email, blank.email]);
    expect(blankSeen.subject).toContain(`${blank.email} invited you`);

    const multiline = await seedUser({ name: "Ada\r\nBcc: x@evil.test" });
    const seen = await howNamed(multiline.id);
    expect([seen.preview, seen.banner]).toEqual(["Ada Bcc: x@evil.test", "Ada Bcc: x@evil.test"]);
    expect(seen.subject).toContain("Ada Bcc: x@evil.test invited you");
  });

  // One rule with the member lists (users.ts displayEmailSql): the address shown is the primary
  // one when verified. A secondary verified address is not promoted to stand for the user.
  it("never by an unverified address: an unverified primary is not shown, nor is a secondary one", async () => {
    const id = uid();
    const unverified = `${id.toLowerCase()}-claimed@example.com`;
    const verified = `${id.toLowerCase()}-proven@example.com`;
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO admins (id, email, name, role, created_at, clerk_updated_at, updated_at) VALUES (?, ?, NULL, 'member', ?, ?, ?)",
      ).bind(id, unverified, now, now, now),
      env.DB.prepare(
        "INSERT INTO user_emails (user_id, email, verified, is_primary, created_at) VALUES (?, ?, 0, 1, ?), (?, ?, 1, 0, ?)",
      ).bind(id, unverified, now, id, verified, now),
    ]);
    const seen = await howNamed(id);
    expect([seen.preview, seen.banner]).toEqual([null, null]);
    expect(seen.subject).toBe("A teammate invited you to join Labelled Org on Roster");
    expect(`${seen.subject}\n${seen.text}`).not.toContain(unverified);
    expect(`${seen.subject}\n${seen.text}`).not.toContain(verified);
  });

  it("an inviter with neither a name nor a verified address is named by none of them", async () => {
    const id = uid();
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO admins (id, email, name, role, created_at, clerk_updated_at, updated_at) VALUES (?, ?, NULL, 'member', ?, ?, ?)",
      ).bind(id, `${id.toLowerCase()}@example.com`, now, now, now),
      env.DB.prepare(
        "INSERT INTO user_emails (user_id, email, verified, is_primary, created_at) VALUES (?, ?, 0, 1, ?)",
      ).bind(id, `${id.toLowerCase()}@example.com`, now),
    ]);
    const seen = await howNamed(id);
    expect([seen.preview, seen.banner]).toEqual([null, null]);
    expect(seen.subject).toBe("A teammate invited you to join Labelled Org on Roster");
  });
});

describe("inviterLabel", () => {
  it("name, else verified address, else null", () => {
    expect(inviterLabel("Ada", "ada@example.com")).toBe("Ada");
    expect(inviterLabel(null, "ada@example.com")).toBe("ada@example.com");
    expect(inviterLabel("  ", "ada@example.com")).toBe("ada@example.com");
    expect(inviterLabel(null, null)).toBeNull();
  });
});
