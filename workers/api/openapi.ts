import { z } from "zod";
import { ERROR_CODES } from "../core/errors";
import type { RouteDefinition } from "./route";

const problemSchema = {
  type: "object",
  required: ["type", "title", "status", "code", "requestId"],
  properties: {
    type: { type: "string" },
    title: { type: "string" },
    status: { type: "integer" },
    code: { type: "string", enum: Object.keys(ERROR_CODES) },
    detail: { type: "string" },
    requestId: { type: "string" },
    errors: {
      type: "array",
      items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } },
    },
  },
};

function schemaOf(schema: z.ZodType, io: "input" | "output"): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json;
}

/** `/v1/organizations/:orgId` -> `/v1/organizations/{orgId}`. */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

function parameters(route: RouteDefinition): unknown[] {
  const out: unknown[] = [];
  const add = (schema: z.ZodType | undefined, where: "path" | "query") => {
    if (!schema) return;
    const json = schemaOf(schema, "input") as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, property] of Object.entries(json.properties ?? {})) {
      out.push({
        name,
        in: where,
        required: where === "path" || (json.required ?? []).includes(name),
        schema: property,
      });
    }
  };
  add(route.params, "path");
  add(route.query, "query");
  return out;
}

/** The OpenAPI 3.1 document, generated from the same route table and zod schemas that serve requests. */
export function openApiDocument(routes: readonly RouteDefinition[], serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (route.hidden) continue;
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      responses[status] = spec.schema
        ? {
            description: spec.description,
            content: { "application/json": { schema: schemaOf(spec.schema, "output") } },
          }
        : { description: spec.description };
    }
    const codes = new Set(route.errors ?? []);
    codes.add("VALIDATION_FAILED");
    if (route.auth) codes.add("UNAUTHENTICATED");
    // A cookie-authenticated write from an untrusted origin (auth.ts, cors.ts: assertCookieOrigin).
    if (route.auth && route.method !== "get") codes.add("FORBIDDEN");
    const byStatus = new Map<number, string[]>();
    for (const code of codes) {
      const status = ERROR_CODES[code].status;
      byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    }
    for (const [status, list] of byStatus) {
      responses[String(status)] ??= {
        description: list.join(", "),
        content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
      };
    }
    const operation: Record<string, unknown> = {
      summary: route.summary,
      tags: [route.tag],
      operationId: `${route.method}${openApiPath(route.path)
        .replace(/[{}]/g, "")
        .replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? "").toUpperCase())}`,
      parameters: parameters(route),
      responses,
    };
    if (route.auth) operation.security = [{ bearer: [] }, { session: [] }];
    if (route.body) {
      operation.requestBody = {
        required: true,
        content: { "application/json": { schema: schemaOf(route.body, "input") } },
      };
    }
    const path = openApiPath(route.path);
    paths[path] ??= {};
    (paths[path] as Record<string, unknown>)[route.method] = operation;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Roster API",
      version: "1.0.0",
      description: "Membership and invitation service: organizations, projects, members and email invites.",
    },
    servers: [{ url: serverUrl }],
    paths,
    components: {
      schemas: { Problem: problemSchema },
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", bearerFormat: "Clerk session JWT" },
        session: {
          type: "apiKey",
          in: "cookie",
          name: "__session",
          description:
            "Clerk's session cookie. POST, PATCH and DELETE with it only from this service's own origin or a CORS_ORIGINS entry marked ;credentials (else 403 FORBIDDEN).",
        },
      },
    },
  };
}
