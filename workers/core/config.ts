import { z } from "zod";

/**
 * The Worker's configuration, parsed once per environment object with zod. A bad value fails
 * loudly (a MISCONFIGURED 500 naming the variable, and a log line), never silently.
 */
const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));
const list = optional.transform((v) =>
  v === undefined
    ? []
    : v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
);
const positiveInt = (fallback: number) =>
  optional.pipe(z.coerce.number<string | undefined>().int().positive().optional()).transform((v) => v ?? fallback);

const configSchema = z.object({
  CLERK_JWT_KEY: optional,
  CLERK_AUTHORIZED_PARTIES: list,
  CLERK_WEBHOOK_SIGNING_SECRET: optional,
  CLERK_SECRET_KEY: optional,
  CLERK_PUBLISHABLE_KEY: optional,
  CLERK_API_URL: optional.pipe(z.url().optional()).transform((v) => (v ?? "https://api.clerk.com").replace(/\/+$/, "")),
  CORS_ORIGINS: list,
  APP_URL: optional.pipe(z.url().optional()).transform((v) => (v ?? "http://localhost:8787").replace(/\/+$/, "")),
  INVITE_LINK_TEMPLATE: optional.refine((v) => v === undefined || v.includes("{token}"), "must contain {token}"),
  INVITE_TTL_DAYS: positiveInt(7),
  INVITE_RETENTION_DAYS: positiveInt(7),
  EMAIL_PROVIDER: optional
    .pipe(z.enum(["console", "smtp", "resend", "cloudflare", "clerk"]).optional())
    .transform((v) => v ?? "console"),
  EMAIL_FROM: optional.transform((v) => v ?? "Roster <no-reply@localhost>"),
  SMTP_HOST: optional,
  SMTP_PORT: optional.pipe(z.coerce.number<string | undefined>().int().min(1).max(65535).optional()),
  SMTP_USER: optional,
  SMTP_PASS: optional,
  SMTP_SECURE: optional.transform((v) => v === "true" || v === "1"),
  RESEND_API_KEY: optional,
  EMAIL_RETRY_BASE_SECONDS: positiveInt(10),
  RATE_LIMIT_INVITES_PER_HOUR: positiveInt(1000),
  RATE_LIMIT_TOKEN_PER_MINUTE: positiveInt(60),
  RATE_LIMIT_CREATES_PER_HOUR: positiveInt(100),
  PLATFORM_ADMIN_USER_IDS: list,
  SIGNUP_MODE: optional.pipe(z.enum(["open", "invite_only"]).optional()).transform((v) => v ?? "open"),
  SIGNUP_CAP: optional.pipe(z.coerce.number<string | undefined>().int().min(0).optional()).transform((v) => v ?? null),
  PLATFORM_INVITES_PER_USER: optional
    .pipe(z.coerce.number<string | undefined>().int().min(0).optional())
    .transform((v) => v ?? 0),
  PLATFORM_INVITE_LINK_TEMPLATE: optional.refine(
    (v) => v === undefined || v.includes("{token}"),
    "must contain {token}",
  ),
  PRODUCT_NAME: optional.transform((v) => v ?? "Roster"),
  EVENTS_WEBHOOK_URL: optional.pipe(z.url({ protocol: /^https?$/ }).optional()),
  EVENTS_WEBHOOK_SECRET: optional.refine(
    (v) => v === undefined || /^whsec_[A-Za-z0-9+/=]{16,}$/.test(v),
    "must be a whsec_… secret (base64)",
  ),
  EVENTS_RETRY_BASE_SECONDS: positiveInt(30),
});

// Events are signed or not sent: a URL without its secret is a configuration error, not a
// silent unsigned delivery.
const configWithRules = configSchema.refine((c) => c.EVENTS_WEBHOOK_URL === undefined || c.EVENTS_WEBHOOK_SECRET, {
  path: ["EVENTS_WEBHOOK_SECRET"],
  message: "is required when EVENTS_WEBHOOK_URL is set",
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

const cache = new WeakMap<object, Config>();

export function getConfig(env: Env): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = configWithRules.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  cache.set(env, parsed.data);
  return parsed.data;
}

const DAY_MS = 86_400_000;
export const days = (n: number): number => n * DAY_MS;

/** The link an invitee opens: the token sits in the fragment, out of server logs and Referers. */
export function inviteLink(config: Config, token: string): string {
  const template = config.INVITE_LINK_TEMPLATE ?? `${config.APP_URL}/invite#token={token}`;
  return template.replaceAll("{APP_URL}", config.APP_URL).replaceAll("{token}", token);
}

/** The link a platform invitee opens (API.md): the token in the fragment, as for invites. */
export function platformInviteLink(config: Config, token: string): string {
  const template = config.PLATFORM_INVITE_LINK_TEMPLATE ?? `${config.APP_URL}/join#token={token}`;
  return template.replaceAll("{APP_URL}", config.APP_URL).replaceAll("{token}", token);
}
