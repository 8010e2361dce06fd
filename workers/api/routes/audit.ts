import type { RouteDefinition } from "../route";

export const auditRoutes: RouteDefinition[] = [];
