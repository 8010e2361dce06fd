import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  assertCanGrant,
  assertCanManageProjectMember,
  authorizeManagedInvite,
  authorizeScope,
  type OrgAccessRow,
  type ProjectAccess,
  type ProjectAccessRow,
} from "../workers/core/access";
import { managesInvite, mayGrant, mayManageProjectMember, scopeAllows } from "../workers/core/guards";
import { canGrantOrgRole, ORG_ROLES, type OrgPermission, PROJECT_ROLES } from "../workers/core/roles";
import { prepare, type SQL, sql } from "../workers/core/sql";

/**
 * guards.ts builds the SQL forms of access.ts's decisions from the permission table directly. A
 * write guarded by one and a refusal named by the other must never disagree (a refused request
 * that writes, or an allowed one that silently does nothing), so these tests evaluate every guard
 * in D1 for every combination of roles and compare it with the decision in JS.
 */

const allows = (decide: () => void): boolean => {
  try {
    decide();
    return true;
  } catch {
    return false;
  }
};

/** Evaluates `guard` over one row per case, in one batch; `ou`, `pa`, `i` carry the roles. */
async function evaluate(cases: { org: string; project: string | null; invite: string | null }[], guard: SQL) {
  const results = await env.DB.batch(
    cases.map((c) =>
      prepare(
        env.DB,
        sql`SELECT (${guard}) AS ok FROM (SELECT ${c.org} AS role) ou, (SELECT ${c.project} AS role) pa,
                   (SELECT ${c.invite} AS role) i`,
      ),
    ),
  );
  return results.map((r) => (r.results[0] as { ok: number }).ok === 1);
}

const projectRoles = [null, ...PROJECT_ROLES];
const permissions: OrgPermission[] = ["members:invite", "invites:read", "invites:resend", "invites:revoke"];

describe("guards.ts agrees with access.ts for every combination of roles", () => {
  it("mayGrant is canGrantOrgRole", async () => {
    const cases = ORG_ROLES.flatMap((org) => ORG_ROLES.map((invite) => ({ org, project: null, invite })));
    expect(await evaluate(cases, mayGrant(sql`ou.role`, sql`i.role`))).toEqual(
      cases.map((c) => canGrantOrgRole(c.org, c.invite as never)),
    );
  });

  it("mayManageProjectMember is assertCanManageProjectMember's rank rule (a non-member target is refused)", async () => {
    // `ou.role` is the actor's organization role, `i.role` the target's (NULL: not a member).
    const cases = ORG_ROLES.flatMap((org) =>
      [null, ...ORG_ROLES].map((target) => ({ org, project: null, invite: target })),
    );
    const expected = cases.map((c) =>
      allows(() =>
        assertCanManageProjectMember({ canManage: true, orgRole: c.org } as ProjectAccess, c.invite as never),
      ),
    );
    expect(expected.some(Boolean) && expected.some((x) => !x)).toBe(true);
    expect(await evaluate(cases, mayManageProjectMember(sql`ou.role`, sql`i.role`))).toEqual(expected);
  });

  for (const permission of permissions) {
    it(`scopeAllows(organization | project, ${permission}, role) is authorizeScope + assertCanGrant`, async () => {
      for (const kind of ["organization", "project"] as const) {
        for (const role of ORG_ROLES) {
          const cases = ORG_ROLES.flatMap((org) =>
            (kind === "organization" ? [null] : projectRoles).map((project) => ({ org, project, invite: role })),
          );
          const expected = cases.map((c) =>
            allows(() => {
              const row =
                kind === "organization"
                  ? ({ id: "o", name: "", slug: "", created_at: 0, max_members: null, role: c.org } as OrgAccessRow)
                  : ({
                      id: "p",
                      organization_id: "o",
                      name: "",
                      created_at: 0,
                      org_name: "",
                      org_slug: "",
                      org_created_at: 0,
                      org_max_members: null,
                      org_role: c.org,
                      project_role: c.project,
                    } as ProjectAccessRow);
              assertCanGrant(authorizeScope(row, kind, permission).orgRole, role);
            }),
          );
          expect(await evaluate(cases, scopeAllows(kind, permission, role))).toEqual(expected);
        }
      }
    });

    it(`managesInvite(${permission}) is authorizeManagedInvite + assertCanGrant on the invite's role`, async () => {
      const cases = ORG_ROLES.flatMap((org) =>
        projectRoles.flatMap((project) => ORG_ROLES.map((invite) => ({ org, project, invite }))),
      );
      const expected = cases.map((c) =>
        allows(() => {
          const row = authorizeManagedInvite(
            { caller_org_role: c.org, caller_project_role: c.project as never },
            permission,
          );
          assertCanGrant(row.caller_org_role, c.invite as never);
        }),
      );
      expect(expected.some(Boolean) && expected.some((x) => !x)).toBe(true);
      expect(await evaluate(cases, managesInvite(permission))).toEqual(expected);
    });
  }
});
