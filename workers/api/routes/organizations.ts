import type { RouteDefinition } from "../route";

export const organizationRoutes: RouteDefinition[] = [];
