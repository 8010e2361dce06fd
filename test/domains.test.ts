import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { canonicalDomain, domainRefusal } from "../workers/core/domain-names";
import { auditOf, expectProblem, seedOrg, seedUser, uid } from "./helpers";
import { api } from "./invite-helpers";

/** Organization domains: claim (proven by a verified address), list, change enrollment, remove. */
function freshDomain(): string {
  return `${uid("acme").toLowerCase().replaceAll("_", "-")}.com`;
}

/** An owner holding a verified address at a fresh domain, and their organization. */
async function claimer(domain = freshDomain(), role: "owner" | "director" | "manager" = "owner") {
  const owner = await seedUser();
  const actor = role === "owner" ? owner : await seedUser();
  await env.DB.prepare(
    "INSERT INTO user_emails (user_id, email, verified, is_primary, created_at) VALUES (?, ?, 1, 0, ?)",
  )
    .bind(actor.id, `someone.${actor.id.slice(-6)}@${domain}`, Date.now())
    .run();
  const org = await seedOrg(owner.id, role === "owner" ? {} : { members: [{ id: actor.id, role }] });
  return { owner, actor, org, domain };
}

const claim = (as: string, orgId: string, body: unknown) =>
  api("POST", `/v1/organizations/${orgId}/domains`, { as, body });

async function domainRows(orgId: string) {
  return (
    await env.DB.prepare("SELECT domain, enrollment, verified_by FROM organization_domains WHERE organization_id = ?")
      .bind(orgId)
      .all()
  ).results;
}

describe("canonical form and refusal lists", () => {
  it("trims, lower-cases and converts to IDNA ASCII in workerd; rejects what is not a domain name", () => {
    expect(canonicalDomain("  Acme.COM. ")).toBe("acme.com");
    expect(canonicalDomain("Bücher.example")).toBe("xn--bcher-kva.example");
    expect(canonicalDomain("ÉCOLE.fr")).toBe("xn--cole-9oa.fr");
    for (const bad of ["", "acme", "acme.com/x", "user@acme.com", "acme.com:443", "1.2.3.4", "-acme.com", "a b.com"]) {
      expect(canonicalDomain(bad), bad).toBeNull();
    }
  });

  it("free-mail providers and public suffixes are refused; company domains are not", () => {
    for (const d of ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "hotmail.com"]) {
      expect(domainRefusal(d), d).toContain("free email provider");
    }
    for (const d of ["co.uk", "com", "github.io", "blogspot.com"])
      expect(domainRefusal(d), d).toContain("public suffix");
    for (const d of ["acme.com", "acme.co.uk", "eng.acme.com"]) expect(domainRefusal(d), d).toBeNull();
  });
});

describe("claiming a domain", () => {
  it("with a verified address at it: 201, audited (domain.added), in one round trip; again → 200 unchanged", async () => {
    const { owner, org, domain } = await claimer();
    const counter = { trips: 0 };
    const res = await api("POST", `/v1/organizations/${org.id}/domains`, {
      as: owner.id,
      body: { domain: ` ${domain.toUpperCase()} `, enrollment: "auto" },
      counter,
    });
    expect(res.status, res.text).toBe(201);
    expect(counter.trips).toBe(1);
    expect(res.body).toEqual({ domain, enrollment: "auto", verifiedBy: owner.id, createdAt: expect.any(String) });
    const again = await claim(owner.id, org.id, { domain, enrollment: "request" });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
    expect((await auditOf(org.id)).map((a) => [a.action, a.target_type, a.target_id])).toEqual([
      ["domain.added", "domain", domain],
    ]);
  });

  it("a free-mail domain → 400 DOMAIN_NOT_ALLOWED, even for a caller with a verified address there", async () => {
    const { owner, org } = await claimer("gmail.com");
    expectProblem(await claim(owner.id, org.id, { domain: "gmail.com" }), 400, "DOMAIN_NOT_ALLOWED");
    expect(await domainRows(org.id)).toEqual([]);
  });

  it("a public suffix → 400 DOMAIN_NOT_ALLOWED (decided before DOMAIN_NOT_VERIFIED)", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    expectProblem(await claim(owner.id, org.id, { domain: "co.uk" }), 400, "DOMAIN_NOT_ALLOWED");
    expectProblem(await claim(owner.id, org.id, { domain: "github.io" }), 400, "DOMAIN_NOT_ALLOWED");
    expect(await domainRows(org.id)).toEqual([]);
  });

  it("without a verified address at it → 403 DOMAIN_NOT_VERIFIED, nothing written (an unverified one is not enough)", async () => {
    const owner = await seedUser();
    const org = await seedOrg(owner.id);
    const domain = freshDomain();
    await env.DB.prepare(
      "INSERT INTO user_emails (user_id, email, verified, is_primary, created_at) VALUES (?, ?, 0, 0, ?)",
    )
      .bind(owner.id, `me@${domain}`, Date.now())
      .run();
    expectProblem(await claim(owner.id, org.id, { domain }), 403, "DOMAIN_NOT_VERIFIED");
    // A subdomain of a domain the caller holds an address at is another domain.
    const { actor, org: other, domain: held } = await claimer();
    expectProblem(await claim(actor.id, other.id, { domain: `eng.${held}` }), 403, "DOMAIN_NOT_VERIFIED");
    expect(await domainRows(org.id)).toEqual([]);
    expect(await auditOf(org.id)).toEqual([]);
  });

  it("org:update only: a manager → 403, an outsider → 404; not a domain → 400", async () => {
    const { actor: manager, org, domain } = await claimer(freshDomain(), "manager");
    expectProblem(await claim(manager.id, org.id, { domain }), 403, "FORBIDDEN");
    expectProblem(await claim((await seedUser()).id, org.id, { domain }), 404, "NOT_FOUND");
    expectProblem(await claim(manager.id, org.id, { domain: "not a domain" }), 400, "VALIDATION_FAILED");
    expect(await domainRows(org.id)).toEqual([]);
    const { actor: director, org: org2, domain: d2 } = await claimer(freshDomain(), "director");
    expect((await claim(director.id, org2.id, { domain: d2 })).status).toBe(201);
  });
});

describe("listing, changing and removing", () => {
  it("lists for members, not guests; PATCH changes enrollment (audited domain.updated); DELETE removes (domain.removed); each one round trip", async () => {
    const { owner, org, domain } = await claimer();
    const guest = await seedUser();
    const member = await seedUser();
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO organization_users (organization_id, user_id, role, created_at, updated_at) VALUES (?, ?, 'guest', 1, 1), (?, ?, 'member', 1, 1)",
      ).bind(org.id, guest.id, org.id, member.id),
    ]);
    await claim(owner.id, org.id, { domain });
    const counter = { trips: 0 };
    const list = await api("GET", `/v1/organizations/${org.id}/domains`, { as: member.id, counter });
    expect(list.status).toBe(200);
    expect(counter.trips).toBe(1);
    expect(list.body.data).toEqual([expect.objectContaining({ domain, enrollment: "request" })]);
    expectProblem(await api("GET", `/v1/organizations/${org.id}/domains`, { as: guest.id }), 403, "FORBIDDEN");

    const patchCounter = { trips: 0 };
    const patched = await api("PATCH", `/v1/organizations/${org.id}/domains/${domain.toUpperCase()}`, {
      as: owner.id,
      body: { enrollment: "auto" },
      counter: patchCounter,
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patchCounter.trips).toBe(1);
    expect(patched.body.enrollment).toBe("auto");
    // The same value again changes nothing and audits nothing.
    await api("PATCH", `/v1/organizations/${org.id}/domains/${domain}`, { as: owner.id, body: { enrollment: "auto" } });
    expectProblem(
      await api("PATCH", `/v1/organizations/${org.id}/domains/${domain}`, {
        as: member.id,
        body: { enrollment: "request" },
      }),
      403,
      "FORBIDDEN",
    );

    const deleteCounter = { trips: 0 };
    const removed = await api("DELETE", `/v1/organizations/${org.id}/domains/${domain}`, {
      as: owner.id,
      counter: deleteCounter,
    });
    expect(removed.status).toBe(204);
    expect(deleteCounter.trips).toBe(1);
    expect(await domainRows(org.id)).toEqual([]);
    expectProblem(
      await api("DELETE", `/v1/organizations/${org.id}/domains/${domain}`, { as: owner.id }),
      404,
      "NOT_FOUND",
    );
    expectProblem(
      await api("PATCH", `/v1/organizations/${org.id}/domains/${domain}`, {
        as: owner.id,
        body: { enrollment: "auto" },
      }),
      404,
      "NOT_FOUND",
    );
    expect((await auditOf(org.id)).map((a) => [a.action, a.data])).toEqual([
      ["domain.added", { domain, enrollment: "request" }],
      ["domain.updated", { domain, from: "request", enrollment: "auto" }],
      ["domain.removed", { domain, enrollment: "auto" }],
    ]);
  });
});
