/**
 * The one error contract: a closed set of codes, each with its HTTP status and title. Handlers and
 * domain functions throw `ApiError`; the router's catch turns it into an RFC 9457 problem+json.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: { status: 400, title: "Validation failed" },
  WEBHOOK_SIGNATURE_INVALID: { status: 400, title: "Webhook signature invalid" },
  DOMAIN_NOT_ALLOWED: { status: 400, title: "Domain not allowed" },
  UNAUTHENTICATED: { status: 401, title: "Authentication required" },
  FORBIDDEN: { status: 403, title: "Forbidden" },
  ROLE_ABOVE_OWN: { status: 403, title: "Role above your own" },
  INVITE_EMAIL_MISMATCH: { status: 403, title: "Invite addressed to another email" },
  EMAIL_NOT_VERIFIED: { status: 403, title: "Email address not verified" },
  DOMAIN_NOT_VERIFIED: { status: 403, title: "Domain not verified" },
  NOT_FOUND: { status: 404, title: "Not found" },
  INVITE_NOT_FOUND: { status: 404, title: "Invite not found" },
  METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed" },
  LAST_OWNER: { status: 409, title: "Last owner" },
  ALREADY_MEMBER: { status: 409, title: "Already a member" },
  INVITE_ALREADY_ACCEPTED: { status: 409, title: "Invite already accepted" },
  INVITE_ALREADY_PENDING: { status: 409, title: "Another invite is pending" },
  SEAT_LIMIT_REACHED: { status: 409, title: "Seat limit reached" },
  SLUG_TAKEN: { status: 409, title: "Slug taken" },
  NO_VERIFIED_EMAIL: { status: 409, title: "No verified email address" },
  CONFLICT: { status: 409, title: "Conflict" },
  EVENTS_DISABLED: { status: 409, title: "Outbound events are disabled" },
  INVITE_EXPIRED: { status: 410, title: "Invite expired" },
  INVITE_REVOKED: { status: 410, title: "Invite revoked" },
  INVITE_DECLINED: { status: 410, title: "Invite declined" },
  PAYLOAD_TOO_LARGE: { status: 413, title: "Payload too large" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported media type" },
  RATE_LIMITED: { status: 429, title: "Too many requests" },
  INTERNAL: { status: 500, title: "Internal error" },
  MISCONFIGURED: { status: 500, title: "Service misconfigured" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface FieldError {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    detail?: string,
    options: { errors?: FieldError[]; headers?: Record<string, string> } = {},
  ) {
    super(detail ?? ERROR_CODES[code].title);
    this.name = "ApiError";
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.detail = detail;
    this.errors = options.errors;
    this.headers = options.headers;
  }
}

/** The problem+json body of an error. Internal errors never carry their message to the client. */
export function problemBody(error: ApiError, requestId: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    type: `urn:roster:problem:${error.code.toLowerCase().replaceAll("_", "-")}`,
    title: ERROR_CODES[error.code].title,
    status: error.status,
    code: error.code,
    requestId,
  };
  if (error.detail !== undefined) body.detail = error.detail;
  if (error.errors !== undefined) body.errors = error.errors;
  return body;
}

export function problemResponse(error: ApiError, requestId: string): Response {
  return new Response(JSON.stringify(problemBody(error, requestId)), {
    status: error.status,
    headers: { "Content-Type": "application/problem+json", ...error.headers },
  });
}
