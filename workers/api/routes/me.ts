import { z } from "zod";
import { newUserAccessSql } from "../../core/platform/gate";
import { invitationsLeft, QUOTA_USED_SQL } from "../../core/platform/quota";
import type { OrgRole, ProjectRole } from "../../core/roles";
import type { UserEmailRow, UserRow } from "../../core/users";
import { type OrganizationRow, type ProjectRow, toOrganization, toProject } from "../../core/views";
import { defineRoute, json } from "../route";
import { organizationSchema, projectSchema } from "../schemas";

const meSchema = z.object({
  user: z.object({
    id: z.string(),
    email: z.string().nullable(),
    name: z.string().nullable(),
    emails: z.array(z.object({ email: z.string(), verified: z.boolean() })),
    access: z.enum(["active", "waitlisted"]),
    referredBy: z.string().nullable(),
    invitationsLeft: z.number().int().nullable(),
  }),
  organizations: z.array(organizationSchema),
  projects: z.array(projectSchema),
});

export const meRoutes = [
  defineRoute({
    method: "get",
    path: "/v1/me",
    summary: "The caller, their addresses, organizations and projects",
    tag: "Me",
    auth: true,
    waitlistAllowed: true,
    responses: { 200: { description: "The caller.", schema: meSchema } },
    // One round trip: the four reads go in one batch.
    handler: async ({ db, config, user, now }) => {
      const [userResult, emailResult, orgResult, projectResult] = await db.batch([
        // A user Roster has no row for yet shows the access they would get now.
        db
          .prepare(
            `SELECT a.email, a.name, a.clerk_updated_at, a.referred_by,
                    coalesce(a.access, ${newUserAccessSql(config, user.id)}) AS access, ${QUOTA_USED_SQL} AS used
             FROM (SELECT ? AS id) u LEFT JOIN admins a ON a.id = u.id`,
          )
          .bind(user.id, now, user.id),
        db
          .prepare(
            "SELECT email, verified, is_primary FROM user_emails WHERE user_id = ? ORDER BY is_primary DESC, email",
          )
          .bind(user.id),
        db
          .prepare(
            `SELECT o.id, o.name, o.slug, o.created_at, o.max_members, ou.role
             FROM organization_users ou JOIN organizations o ON o.id = ou.organization_id
             WHERE ou.user_id = ? ORDER BY ou.created_at, o.id`,
          )
          .bind(user.id),
        db
          .prepare(
            `SELECT p.id, p.organization_id, p.name, p.created_at, pa.role
             FROM project_admins pa JOIN projects p ON p.id = pa.project_id
             WHERE pa.admin_id = ? ORDER BY pa.created_at, p.id`,
          )
          .bind(user.id),
      ]);
      const row = userResult?.results[0] as
        | (Partial<UserRow> & { referred_by: string | null; access: string; used: number })
        | undefined;
      const emails = (emailResult?.results ?? []) as UserEmailRow[];
      const primary = emails.find((e) => e.is_primary === 1) ?? emails[0];
      return json(200, {
        user: {
          id: user.id,
          // Until Clerk's user.created arrives the address is unknown: null, not the placeholder.
          // A synced user with no address at all has none either (admins.email holds a placeholder).
          email: row !== undefined && row.clerk_updated_at != null ? (primary?.email ?? null) : null,
          name: row?.name ?? null,
          emails: emails.map((e) => ({ email: e.email, verified: e.verified === 1 })),
          access: row?.access ?? "waitlisted",
          referredBy: row?.referred_by ?? null,
          invitationsLeft: invitationsLeft(config, user.id, row?.access ?? "waitlisted", row?.used ?? 0),
        },
        organizations: ((orgResult?.results ?? []) as (OrganizationRow & { role: OrgRole })[]).map((o) =>
          toOrganization(o, o.role),
        ),
        projects: ((projectResult?.results ?? []) as (ProjectRow & { role: ProjectRole })[]).map((p) =>
          toProject(p, p.role),
        ),
      });
    },
  }),
];
