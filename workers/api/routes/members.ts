import { z } from "zod";
import { changeMemberRole, listMembers, removeMember } from "../../core/memberships";
import { pageQuerySchema } from "../../core/pagination";
import { defineRoute, json, noContent } from "../route";
import { idSchema, memberSchema, orgRoleSchema, pageOf } from "../schemas";

const orgParams = z.strictObject({ orgId: idSchema });
const memberParams = z.strictObject({ orgId: idSchema, userId: idSchema });

export const memberRoutes = [
  defineRoute({
    method: "get",
    path: "/v1/organizations/:orgId/members",
    summary: "The organization's members (not for guests)",
    tag: "Organization members",
    auth: true,
    params: orgParams,
    query: pageQuerySchema,
    responses: { 200: { description: "A page of members, by join time.", schema: pageOf(memberSchema) } },
    errors: ["NOT_FOUND", "FORBIDDEN"],
    handler: async ({ db, user, params, query }) => json(200, await listMembers(db, params.orgId, user.id, query)),
  }),
  defineRoute({
    method: "patch",
    path: "/v1/organizations/:orgId/members/:userId",
    summary: "Change a member's role",
    tag: "Organization members",
    auth: true,
    params: memberParams,
    body: z.strictObject({ role: orgRoleSchema }),
    responses: { 200: { description: "The member.", schema: memberSchema } },
    errors: ["NOT_FOUND", "FORBIDDEN", "ROLE_ABOVE_OWN", "LAST_OWNER", "CONFLICT"],
    handler: async ({ db, user, params, body, now }) =>
      json(
        200,
        await changeMemberRole(db, {
          orgId: params.orgId,
          actorId: user.id,
          targetId: params.userId,
          role: body.role,
          now,
        }),
      ),
  }),
  defineRoute({
    method: "delete",
    path: "/v1/organizations/:orgId/members/:userId",
    summary: "Remove a member, or leave when userId is the caller (with the organization's projects)",
    tag: "Organization members",
    auth: true,
    params: memberParams,
    responses: { 204: { description: "Removed." } },
    errors: ["NOT_FOUND", "FORBIDDEN", "LAST_OWNER", "CONFLICT"],
    handler: async ({ db, user, params, now }) => {
      await removeMember(db, { orgId: params.orgId, actorId: user.id, targetId: params.userId, now });
      return noContent();
    },
  }),
];
