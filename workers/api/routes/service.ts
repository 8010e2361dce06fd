import { z } from "zod";
import { openApiDocument } from "../openapi";
import { defineRoute, json } from "../route";
import { routes } from "./index";

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
  defineRoute({
    method: "get",
    path: "/openapi.json",
    summary: "This OpenAPI 3.1 document",
    tag: "Service",
    auth: false,
    responses: { 200: { description: "The OpenAPI document." } },
    handler: async ({ request }) => json(200, openApiDocument(routes, new URL(request.url).origin)),
  }),
];
