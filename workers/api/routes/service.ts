import { z } from "zod";
import { defineRoute, json } from "../route";

export const serviceRoutes = [
  defineRoute({
    method: "get",
    path: "/healthz",
    summary: "Liveness check",
    tag: "Service",
    auth: false,
    responses: { 200: { description: "The service is up.", schema: z.object({ ok: z.literal(true) }) } },
    handler: async () => json(200, { ok: true }),
  }),
];
