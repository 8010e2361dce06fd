import { LogLevel, WorkerMailer } from "worker-mailer";
import { clerkBackend } from "../core/clerk-api";
import type { ClerkInvitationRef } from "../core/clerk-invitations";
import { type Config, ConfigError } from "../core/config";
import { clerkProvider } from "./clerk-provider";
import { cloudflareProvider } from "./cloudflare-provider";
import { headerValue, type RenderedEmail } from "./template";

/** A mailbox for the From header: an address and an optional display name. */
export interface Mailbox {
  name: string | null;
  email: string;
}

export interface OutgoingEmail extends RenderedEmail {
  from: Mailbox;
  /** Stable per (invite, token version): `<invite-…-v…@domain>`, so receivers can spot a duplicate. */
  messageId: string;
  /** Stable per (invite, token version): `invite-<id>-v<version>`, for providers that deduplicate. */
  idempotencyKey: string;
  /**
   * The invitation the email is about, if it is one: the Clerk provider sends Clerk's own
   * invitation for it instead. Notifications have none.
   */
  about?: ClerkInvitationRef;
}

export interface EmailProvider {
  readonly name: Config["EMAIL_PROVIDER"];
  /** Resolves with the provider's message id when it has one; throws a DeliveryError otherwise. */
  send(email: OutgoingEmail): Promise<{ providerMessageId: string | null }>;
}

/**
 * A failed send. `transient` failures are retried with backoff (network errors, timeouts, HTTP
 * 5xx and 429, SMTP 4xx, a misconfigured provider an operator can still fix); `permanent` ones
 * (the recipient or the message was refused: SMTP 5xx, HTTP 4xx) stop at once.
 */
export class DeliveryError extends Error {
  override name = "DeliveryError";
  constructor(
    readonly kind: "transient" | "permanent",
    message: string,
    /** A delay the provider asked for (Retry-After), in seconds. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

/** Bounds every wait on a provider: a hung server must not hold the message past its lease. */
export const SEND_TIMEOUT_MS = 15_000;

/**
 * The provider EMAIL_PROVIDER names. Throws a ConfigError naming what is missing; the consumer
 * then logs it loudly and fails each message transiently, so nothing is dropped silently and the
 * messages end `failed` through the dead-letter queue if nobody fixes the configuration.
 */
export function createProvider(config: Config, bindings: { EMAIL?: SendEmail } = {}): EmailProvider {
  switch (config.EMAIL_PROVIDER) {
    case "console":
      return consoleProvider;
    case "smtp": {
      if (config.SMTP_HOST === undefined) throw new ConfigError("EMAIL_PROVIDER=smtp needs SMTP_HOST");
      if ((config.SMTP_USER === undefined) !== (config.SMTP_PASS === undefined)) {
        throw new ConfigError("EMAIL_PROVIDER=smtp needs both SMTP_USER and SMTP_PASS, or neither");
      }
      return smtpProvider({
        host: config.SMTP_HOST,
        port: config.SMTP_PORT ?? (config.SMTP_SECURE ? 465 : 587),
        secure: config.SMTP_SECURE,
        credentials:
          config.SMTP_USER !== undefined && config.SMTP_PASS !== undefined
            ? { username: config.SMTP_USER, password: config.SMTP_PASS }
            : null,
      });
    }
    case "resend":
      if (config.RESEND_API_KEY === undefined) throw new ConfigError("EMAIL_PROVIDER=resend needs RESEND_API_KEY");
      return resendProvider(config.RESEND_API_KEY);
    case "cloudflare":
      if (bindings.EMAIL === undefined) {
        throw new ConfigError('EMAIL_PROVIDER=cloudflare needs the send_email binding "EMAIL" (wrangler.toml)');
      }
      return cloudflareProvider(bindings.EMAIL);
    case "clerk":
      if (config.CLERK_SECRET_KEY === undefined) throw new ConfigError("EMAIL_PROVIDER=clerk needs CLERK_SECRET_KEY");
      return clerkProvider(clerkBackend(config), config);
  }
}

/** EMAIL_FROM ("Name <address>" or a bare address) as a mailbox, refusing anything header-unsafe. */
export function parseMailbox(value: string): Mailbox {
  const match = /^(?:(.*?)\s*<([^<>]+)>|([^<>\s]+))$/.exec(headerValue(value));
  const email = headerValue(match?.[2] ?? match?.[3] ?? "");
  if (!/^[^\s@<>",;]+@[^\s@<>",;]+$/.test(email)) throw new ConfigError(`EMAIL_FROM is not an address: "${value}"`);
  // The display name goes between quotes in the header: drop what would end them.
  const name = headerValue((match?.[1] ?? "").replace(/^"|"$/g, "").replace(/["\\]/g, ""));
  return { name: name === "" ? null : name, email };
}

export function formatMailbox(mailbox: Mailbox): string {
  return mailbox.name === null ? mailbox.email : `"${mailbox.name}" <${mailbox.email}>`;
}

/** The local default: the whole message, link included, in the log (the one place a raw token may appear). */
const consoleProvider: EmailProvider = {
  name: "console",
  async send(email) {
    console.log(
      [
        "[email:console] ---------------------------------------------",
        `From: ${formatMailbox(email.from)}`,
        `To: ${email.to}`,
        `Subject: ${email.subject}`,
        `Message-ID: ${email.messageId}`,
        "",
        email.text,
        "---------------------------------------------------------------",
      ].join("\n"),
    );
    return { providerMessageId: null };
  },
};

interface SmtpOptions {
  host: string;
  port: number;
  secure: boolean;
  credentials: { username: string; password: string } | null;
}

/**
 * worker-mailer 1.2.1 reads each SMTP reply in a loop that `continue`s when `reader.read()` yields
 * no bytes, and after the server has closed the connection it yields `{done: true}` forever: a
 * server that answers 421 and hangs up (or dies mid-session) leaves a microtask loop spinning, and
 * the isolate with it (timers never fire, so its own timeout cannot help). Its reply reader is
 * replaced by the same logic that fails on end-of-stream instead. The version is pinned exactly;
 * test/email-faults.test.ts ("drops the connection") hangs without this.
 */
interface MailerInternals {
  reader: ReadableStreamDefaultReader<Uint8Array>;
  read(): Promise<string>;
}
const replyDecoder = new TextDecoder("utf-8");
(WorkerMailer.prototype as unknown as MailerInternals).read = async function read(this: MailerInternals) {
  let response = "";
  for (;;) {
    const { value, done } = await this.reader.read();
    if (done) throw new Error("SMTP server closed the connection");
    if (!value || value.byteLength === 0) continue;
    response += replyDecoder.decode(value);
    if (!response.endsWith("\n")) continue;
    const lines = response.split(/\r?\n/);
    // A multi-line reply ("250-…") goes on until a line without the dash.
    if (!/^\d+-/.test(lines[lines.length - 2] ?? "")) return response;
  }
};

/** SMTP over `cloudflare:sockets` (worker-mailer): one connection per message, always closed. */
function smtpProvider(options: SmtpOptions): EmailProvider {
  return {
    name: "smtp",
    async send(email) {
      let mailer: WorkerMailer;
      try {
        mailer = await WorkerMailer.connect({
          host: options.host,
          port: options.port,
          secure: options.secure,
          // Upgrades with STARTTLS when the server offers it (worker-mailer's default).
          startTls: true,
          ...(options.credentials
            ? { credentials: options.credentials, authType: ["plain", "login", "cram-md5"] as const }
            : {}),
          socketTimeoutMs: SEND_TIMEOUT_MS,
          responseTimeoutMs: SEND_TIMEOUT_MS,
          logLevel: LogLevel.NONE,
        });
      } catch (error) {
        throw classifySmtpError(error);
      }
      try {
        await mailer.send({
          from: email.from.name === null ? email.from.email : { name: email.from.name, email: email.from.email },
          to: email.to,
          subject: email.subject,
          text: email.text,
          html: email.html,
          headers: { "Message-ID": email.messageId },
        });
        return { providerMessageId: null };
      } catch (error) {
        throw classifySmtpError(error);
      } finally {
        await mailer.close();
      }
    },
  };
}

/**
 * worker-mailer reports a refused command as "Invalid RCPT TO: <…> 550 …" (likewise MAIL FROM,
 * DATA and the body). A 5xx reply to one of those refuses this message for good; anything else —
 * a 4xx, a refused connection, a timeout, a failed greeting or login (the server or our
 * configuration, not this message) — is worth retrying.
 */
export function classifySmtpError(error: unknown): DeliveryError {
  const message = error instanceof Error ? error.message : String(error);
  const reason = `SMTP: ${summarize(message)}`;
  const reply =
    /^(?:Invalid (?:MAIL FROM|RCPT TO):|Failed to send DATA:|Failed send email body:).*?\s([2-5]\d\d)[\s-]/s.exec(
      `${message} `,
    );
  return new DeliveryError(reply?.[1]?.startsWith("5") ? "permanent" : "transient", reason);
}

export const RESEND_ENDPOINT = "https://api.resend.com/emails";

/** The Resend HTTP API. The Idempotency-Key makes Resend itself drop a second send of the same version. */
function resendProvider(apiKey: string): EmailProvider {
  return {
    name: "resend",
    async send(email) {
      let response: Response;
      try {
        response = await fetch(RESEND_ENDPOINT, {
          method: "POST",
          headers: {
            Authorization: `Bearer ${apiKey}`,
            "Content-Type": "application/json",
            "Idempotency-Key": email.idempotencyKey,
          },
          body: JSON.stringify({
            from: formatMailbox(email.from),
            to: [email.to],
            subject: email.subject,
            html: email.html,
            text: email.text,
          }),
          signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
        });
      } catch (error) {
        throw new DeliveryError("transient", `Resend unreachable: ${summarize(errorMessage(error))}`);
      }
      const text = await response.text();
      let parsed: { id?: unknown; name?: unknown; message?: unknown } = {};
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON (a proxy's error page): the status decides.
      }
      if (response.ok) return { providerMessageId: typeof parsed.id === "string" ? parsed.id : null };
      throw classifyResendResponse(response.status, parsed, response.headers.get("Retry-After"), text);
    },
  };
}

/**
 * HTTP 429 and 5xx are transient, as are 401/403 (a wrong or unverified key or domain: the
 * operator's to fix, and retries give them the time) and a 409 for an idempotent request still in
 * flight. Any other 4xx refuses this message: permanent.
 */
export function classifyResendResponse(
  status: number,
  body: { name?: unknown; message?: unknown },
  retryAfter: string | null,
  rawBody = "",
): DeliveryError {
  const detail = typeof body.message === "string" ? body.message : rawBody;
  const reason = `Resend ${status}${typeof body.name === "string" ? ` ${body.name}` : ""}: ${summarize(detail)}`;
  const seconds = retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter.trim()) : null;
  const transient =
    status === 429 ||
    status >= 500 ||
    status === 401 ||
    status === 403 ||
    (status === 409 && body.name === "concurrent_idempotent_requests");
  return new DeliveryError(transient ? "transient" : "permanent", reason, seconds);
}

/** Provider replies go to D1 (delivery_error) and the log: one line, bounded. */
export function summarize(message: string): string {
  const line = headerValue(message);
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
