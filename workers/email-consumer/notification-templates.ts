import type { OrgRole } from "../core/roles";
import { escapeHtml, headerValue, type RenderedEmail } from "./template";
import { renderJoinRequestDecision, renderMembershipOffer } from "./template-notifications";

/**
 * Notification emails, one template per event type that notifies (workers/core/events/
 * notifications.ts decides who gets one). A new notification is a template here and a rule there.
 * Every value from the database is untrusted: escaped in HTML, single-lined in the subject.
 */
export interface NotificationDetails {
  to: string;
  recipientName: string | null;
  organizationName: string | null;
  actorName: string | null;
  data: Record<string, unknown>;
  at: number;
  /** Where the recipient signs in to act (APP_URL). */
  appUrl: string;
}

const PRODUCT_NAME = "Roster";

interface Message {
  subject: string;
  heading: string;
  paragraphs: string[];
}

type Template = (details: NotificationDetails) => Message;

const roleOf = (d: NotificationDetails): OrgRole | null =>
  typeof d.data.role === "string" ? (d.data.role as OrgRole) : null;

/** Templates with their own layout (a sign-in button), from template-notifications.ts. */
const RENDERED: Record<string, (details: NotificationDetails) => RenderedEmail> = {
  // A consent-pending add: the offer, without a token link (they accept signed in).
  "invite.created": (d) =>
    renderMembershipOffer({
      email: d.to,
      organizationName: d.organizationName ?? "",
      role: roleOf(d) ?? "member",
      inviterName: d.actorName,
      inviterEmail: null,
      expiresAt: typeof d.data.expiresAt === "string" ? Date.parse(d.data.expiresAt) : d.at,
      appUrl: d.appUrl,
      productName: PRODUCT_NAME,
    }),
  "join_request.approved": (d) =>
    renderJoinRequestDecision({
      email: d.to,
      organizationName: d.organizationName ?? "",
      status: "approved",
      role: roleOf(d),
      appUrl: d.appUrl,
      productName: PRODUCT_NAME,
    }),
  "join_request.denied": (d) =>
    renderJoinRequestDecision({
      email: d.to,
      organizationName: d.organizationName ?? "",
      status: "denied",
      role: null,
      appUrl: d.appUrl,
      productName: PRODUCT_NAME,
    }),
};

const TEMPLATES: Record<string, Template> = {
  "member.role_changed": (d) => {
    const org = oneLine(d.organizationName ?? "") || "your organization";
    const from = typeof d.data.from === "string" ? d.data.from : null;
    const to = typeof d.data.to === "string" ? d.data.to : "a new role";
    const by = oneLine(d.actorName ?? "") || "An administrator";
    return {
      subject: `Your role in ${org} is now ${to}`,
      heading: `Your role in ${org} changed`,
      paragraphs: [
        `${by} changed your role in ${org}${from === null ? "" : ` from ${from}`} to ${to}.`,
        "If you think this is a mistake, contact an owner of the organization.",
      ],
    };
  },
};

/** The rendered email for an event, or null when its type has no template. */
export function renderNotification(type: string, details: NotificationDetails): RenderedEmail | null {
  const rendered = RENDERED[type];
  if (rendered !== undefined) return rendered(details);
  const template = TEMPLATES[type];
  if (template === undefined) return null;
  const { subject, heading, paragraphs } = template(details);
  const e = escapeHtml;
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${e(subject)}</title></head>
<body style="margin:0;padding:24px;background:#f4f4f5;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#18181b">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px">
<tr><td style="padding:32px">
<h1 style="margin:0 0 16px;font-size:20px">${e(heading)}</h1>
${paragraphs.map((p) => `<p style="margin:0 0 12px;font-size:15px;line-height:1.5">${e(p)}</p>`).join("\n")}
</td></tr>
</table>
</body>
</html>
`;
  return { to: headerValue(details.to), subject: headerValue(subject), text: `${paragraphs.join("\n\n")}\n`, html };
}

function oneLine(value: string): string {
  const line = headerValue(value);
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}
