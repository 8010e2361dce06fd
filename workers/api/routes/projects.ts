import { z } from "zod";
import { pageQuerySchema } from "../../core/pagination";
import {
  changeProjectMemberRole,
  createProject,
  getProject,
  listProjectMembers,
  listProjects,
  removeProjectMember,
} from "../../core/projects";
import { createWindow } from "../../core/rate-limit";
import { defineRoute, json, noContent } from "../route";
import { idSchema, nameSchema, pageOf, projectMemberSchema, projectRoleSchema, projectSchema } from "../schemas";

const orgParams = z.strictObject({ orgId: idSchema });
const projectParams = z.strictObject({ projectId: idSchema });
const projectMemberParams = z.strictObject({ projectId: idSchema, userId: idSchema });

export const projectRoutes = [
  defineRoute({
    method: "post",
    path: "/v1/organizations/:orgId/projects",
    summary: "Create a project (projects:create; the creator becomes its admin)",
    tag: "Projects",
    auth: true,
    params: orgParams,
    body: z.strictObject({ name: nameSchema }),
    responses: { 201: { description: "The new project.", schema: projectSchema } },
    errors: ["NOT_FOUND", "FORBIDDEN", "RATE_LIMITED", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"],
    handler: async ({ db, config, user, params, body, now }) =>
      json(
        201,
        await createProject(db, {
          orgId: params.orgId,
          actorId: user.id,
          name: body.name,
          now,
          rate: createWindow(user.id, config.RATE_LIMIT_CREATES_PER_HOUR, now),
        }),
      ),
  }),
  defineRoute({
    method: "get",
    path: "/v1/organizations/:orgId/projects",
    summary: "The organization's projects: all with projects:read_all, else the caller's",
    tag: "Projects",
    auth: true,
    params: orgParams,
    query: pageQuerySchema,
    responses: { 200: { description: "A page of projects, by creation time.", schema: pageOf(projectSchema) } },
    errors: ["NOT_FOUND"],
    handler: async ({ db, user, params, query }) => json(200, await listProjects(db, params.orgId, user.id, query)),
  }),
  defineRoute({
    method: "get",
    path: "/v1/projects/:projectId",
    summary: "One project the caller can see",
    tag: "Projects",
    auth: true,
    params: projectParams,
    responses: { 200: { description: "The project.", schema: projectSchema } },
    errors: ["NOT_FOUND"],
    handler: async ({ db, user, params }) => json(200, await getProject(db, params.projectId, user.id)),
  }),
  defineRoute({
    method: "get",
    path: "/v1/projects/:projectId/members",
    summary: "The project's members",
    tag: "Projects",
    auth: true,
    params: projectParams,
    query: pageQuerySchema,
    responses: {
      200: { description: "A page of project members, by join time.", schema: pageOf(projectMemberSchema) },
    },
    errors: ["NOT_FOUND"],
    handler: async ({ db, user, params, query }) =>
      json(200, await listProjectMembers(db, params.projectId, user.id, query)),
  }),
  defineRoute({
    method: "patch",
    path: "/v1/projects/:projectId/members/:userId",
    summary: "Change a project member's role (project admins and organization managers)",
    tag: "Projects",
    auth: true,
    params: projectMemberParams,
    body: z.strictObject({ role: projectRoleSchema }),
    responses: { 200: { description: "The project member.", schema: projectMemberSchema } },
    errors: ["NOT_FOUND", "FORBIDDEN", "CONFLICT"],
    handler: async ({ db, user, params, body, now }) =>
      json(
        200,
        await changeProjectMemberRole(db, {
          projectId: params.projectId,
          actorId: user.id,
          targetId: params.userId,
          role: body.role,
          now,
        }),
      ),
  }),
  defineRoute({
    method: "delete",
    path: "/v1/projects/:projectId/members/:userId",
    summary: "Remove a project member, or leave the project when userId is the caller",
    tag: "Projects",
    auth: true,
    params: projectMemberParams,
    responses: { 204: { description: "Removed." } },
    errors: ["NOT_FOUND", "FORBIDDEN", "CONFLICT"],
    handler: async ({ db, user, params, now }) => {
      await removeProjectMember(db, { projectId: params.projectId, actorId: user.id, targetId: params.userId, now });
      return noContent();
    },
  }),
];
