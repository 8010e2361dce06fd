import { openApiDocument } from "../openapi";
import { defineRoute, json, type RouteDefinition } from "../route";
import { auditRoutes } from "./audit";
import { domainRoutes } from "./domains";
import { inviteRoutes } from "./invites";
import { joinRequestRoutes } from "./join-requests";
import { meRoutes } from "./me";
import { memberRoutes } from "./members";
import { organizationRoutes } from "./organizations";
import { pageRoutes } from "./pages";
import { platformEventRoutes } from "./platform-events";
import { projectRoutes } from "./projects";
import { serviceRoutes } from "./service";
import { webhookRoutes } from "./webhooks";

/** The document of the table below, registered here because this file owns the table. */
const openApiRoute = defineRoute({
  method: "get",
  path: "/openapi.json",
  summary: "This OpenAPI 3.1 document",
  tag: "Service",
  auth: false,
  responses: { 200: { description: "The OpenAPI document." } },
  handler: async ({ request }) => json(200, openApiDocument(routes, new URL(request.url).origin)),
});

/** Every route of the API, in one table: the router serves it and /openapi.json documents it. */
export const routes: RouteDefinition[] = [
  ...serviceRoutes,
  openApiRoute,
  ...meRoutes,
  ...organizationRoutes,
  ...memberRoutes,
  ...projectRoutes,
  ...inviteRoutes,
  ...domainRoutes,
  ...joinRequestRoutes,
  ...auditRoutes,
  ...platformEventRoutes,
  ...webhookRoutes,
  ...pageRoutes,
];
