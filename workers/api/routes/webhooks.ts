import type { RouteDefinition } from "../route";

export const webhookRoutes: RouteDefinition[] = [];
