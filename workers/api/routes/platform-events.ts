import { z } from "zod";
import { listEvents, redeliverEvent } from "../../core/events/operators";
import { pageQuerySchema } from "../../core/pagination";
import { defineRoute, json } from "../route";
import { idSchema, pageOf, timestamp } from "../schemas";

const deliveryStatusSchema = z.enum(["pending", "sent", "failed", "disabled"]);

export const eventSchema = z.object({
  id: z.string(),
  sequence: z.number().int(),
  type: z.string(),
  organizationId: z.string().nullable(),
  actor: z.object({ userId: z.string() }).nullable(),
  target: z.object({ type: z.string(), id: z.string() }),
  data: z.record(z.string(), z.unknown()),
  createdAt: timestamp,
  delivery: z.object({ status: deliveryStatusSchema, attempts: z.number().int(), lastError: z.string().nullable() }),
});

export const platformEventRoutes = [
  defineRoute({
    method: "get",
    path: "/v1/platform/events",
    summary: "Outbound events in sequence order, with their delivery state (operators only)",
    tag: "Platform",
    auth: true,
    query: pageQuerySchema.extend({
      after: z.coerce.number().int().min(0).optional(),
      type: z.string().min(1).max(100).optional(),
      delivery: deliveryStatusSchema.optional(),
    }),
    responses: { 200: { description: "A page of events, by sequence.", schema: pageOf(eventSchema) } },
    errors: ["NOT_FOUND"],
    handler: async ({ db, config, user, query }) => json(200, await listEvents(db, config, user.id, query)),
  }),
  defineRoute({
    method: "post",
    path: "/v1/platform/events/:eventId/redeliver",
    summary: "Deliver an event again, whatever its delivery status (operators only)",
    tag: "Platform",
    auth: true,
    params: z.strictObject({ eventId: idSchema }),
    responses: { 202: { description: "Queued for delivery." } },
    errors: ["NOT_FOUND", "EVENTS_DISABLED"],
    handler: async ({ db, config, user, params, now }) => {
      await redeliverEvent(db, config, { userId: user.id, eventId: params.eventId, now });
      return new Response(null, { status: 202 });
    },
  }),
];
