import { z } from "zod";
import type { Config } from "../core/config";
import type { Db } from "../core/db";
import { ApiError, type ErrorCode, type FieldError } from "../core/errors";
import type { AuthUser } from "./auth";

/**
 * Schema-first routes: each route declares its params, query, body and responses as zod schemas.
 * The router validates requests with them and the OpenAPI document is generated from them, so
 * the documentation cannot drift from the code.
 */
export type Method = "get" | "post" | "patch" | "delete";

export interface RequestContext {
  request: Request;
  env: Env;
  exec: ExecutionContext;
  db: Db;
  config: Config;
  requestId: string;
  /** Milliseconds since the epoch, read once per request. */
  now: number;
}

type Infer<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteContext<P, Q, B, A extends boolean> extends RequestContext {
  params: Infer<P>;
  query: Infer<Q>;
  body: Infer<B>;
  user: A extends true ? AuthUser : null;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
}

export interface RouteDefinition<
  P extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  B extends z.ZodType | undefined = z.ZodType | undefined,
  A extends boolean = boolean,
> {
  method: Method;
  /** itty-router syntax: `/v1/organizations/:orgId`. */
  path: string;
  summary: string;
  tag: string;
  /** Whether a Clerk session token is required. */
  auth: A;
  /**
   * A waitlisted caller may use it (API.md "Platform"): their own view, invites and platform
   * invitations. Every other authenticated route answers them 403 NOT_ADMITTED (the router gates
   * its D1 handle: workers/api/gated-db.ts).
   */
  waitlistAllowed?: boolean;
  /**
   * Operators only (PLATFORM_ADMIN_USER_IDS): everyone else gets 404 NOT_FOUND, decided by the
   * handler's core call (`requirePlatformAdmin`); test/routes.test.ts sweeps every such route.
   */
  operatorOnly?: boolean;
  params?: P;
  query?: Q;
  /** Omitted for endpoints that take no body: those accept an empty body of any content type. */
  body?: B;
  /**
   * The handler reads the body itself with `readBody` (e.g. a signed webhook, whose signature
   * covers the exact bytes). The 64 KiB limit still applies there.
   */
  rawBody?: boolean;
  responses: Record<number, ResponseSpec>;
  /** Error codes this route may answer with, for the OpenAPI document. */
  errors?: ErrorCode[];
  /** A browser page or asset rather than an API endpoint: served, but left out of /openapi.json. */
  hidden?: boolean;
  /** Responses to token-bearing requests get Cache-Control: no-store (all API responses do). */
  handler: (ctx: RouteContext<P, Q, B, A>) => Promise<Response>;
}

export function defineRoute<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  A extends boolean = true,
>(route: RouteDefinition<P, Q, B, A>): RouteDefinition {
  return route as unknown as RouteDefinition;
}

export function json(status: number, data: unknown, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(data), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
  });
}

export function noContent(): Response {
  return new Response(null, { status: 204 });
}

export const MAX_BODY_BYTES = 64 * 1024;

/** Reads at most MAX_BODY_BYTES of the body, whatever Content-Length claims. */
export async function readBody(request: Request): Promise<string> {
  const declared = request.headers.get("Content-Length");
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) {
    throw new ApiError("PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
  }
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new ApiError("PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError("VALIDATION_FAILED", "The body is not valid UTF-8.");
  }
}

function isJsonContentType(value: string | null): boolean {
  if (value === null) return false;
  const type = value.split(";")[0]?.trim().toLowerCase();
  return type === "application/json" || (type?.startsWith("application/") === true && type.endsWith("+json"));
}

const EMPTY_BODY = z.strictObject({});

/**
 * The request body, validated. A body endpoint takes JSON only (415 otherwise, even when empty).
 * A no-body endpoint accepts an empty body with any or no content type; a non-empty one must be
 * the JSON `{}`.
 */
export async function parseBody(request: Request, schema: z.ZodType | undefined): Promise<unknown> {
  const text = await readBody(request);
  const empty = text.trim() === "";
  if (schema === undefined && empty) return undefined;
  if (!isJsonContentType(request.headers.get("Content-Type"))) {
    throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "Send the body as application/json.");
  }
  let data: unknown;
  if (!empty) {
    try {
      data = JSON.parse(text);
    } catch {
      throw new ApiError("VALIDATION_FAILED", "The body is not valid JSON.", {
        errors: [{ path: "", message: "Malformed JSON" }],
      });
    }
  }
  return validate(schema ?? EMPTY_BODY, data, "body");
}

export function validate<S extends z.ZodType>(schema: S, data: unknown, where: string): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const errors: FieldError[] = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    message: issue.code === "unrecognized_keys" ? `Unknown field(s): ${issue.keys.join(", ")}` : issue.message,
  }));
  throw new ApiError("VALIDATION_FAILED", `The request ${where} is not valid.`, { errors });
}

/** Query parameters as an object; a repeated parameter is a validation error, not a silent pick. */
export function queryObject(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    if (key in out) {
      throw new ApiError("VALIDATION_FAILED", "The request query is not valid.", {
        errors: [{ path: key, message: "Repeated query parameter" }],
      });
    }
    out[key] = value;
  }
  return out;
}
