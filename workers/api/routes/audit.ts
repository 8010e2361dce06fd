import { z } from "zod";
import { listAuditEvents } from "../../core/audit-events";
import { pageQuerySchema } from "../../core/pagination";
import { defineRoute, json } from "../route";
import { idSchema, pageOf, timestamp } from "../schemas";

const auditEventSchema = z.object({
  id: z.string(),
  action: z.string(),
  actor: z.object({ userId: z.string() }).nullable(),
  target: z.object({ type: z.string(), id: z.string() }),
  data: z.record(z.string(), z.unknown()),
  createdAt: timestamp,
});

export const auditRoutes = [
  defineRoute({
    method: "get",
    path: "/v1/organizations/:orgId/audit-events",
    summary: "The organization's audit events, newest first",
    tag: "Audit",
    auth: true,
    params: z.object({ orgId: idSchema }),
    query: pageQuerySchema,
    responses: { 200: { description: "A page of audit events.", schema: pageOf(auditEventSchema) } },
    errors: ["NOT_FOUND", "FORBIDDEN"],
    handler: async ({ db, user, params, query }) =>
      json(200, await listAuditEvents(db, { orgId: params.orgId, userId: user.id, page: query })),
  }),
];
