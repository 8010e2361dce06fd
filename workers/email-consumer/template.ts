import { inviterLabel } from "../core/invites/views";
import type { OrgRole, ProjectRole } from "../core/roles";

/** What the invitation email says, read from D1 in one query (see `deliver.ts`). */
export interface InvitationDetails {
  email: string;
  organizationName: string;
  projectName: string | null;
  role: OrgRole;
  projectRole: ProjectRole | null;
  inviterName: string | null;
  /** The address others see for the inviter (users.ts `displayEmailSql`). */
  inviterEmail: string | null;
  expiresAt: number;
  link: string;
}

export interface RenderedEmail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Renders the invitation. Every value from the database is untrusted (names come from users and
 * from Clerk): it is HTML-escaped in the HTML part, and single-lined in the subject, whose
 * CR/LF would otherwise start new headers.
 */
export function renderInvitation(details: InvitationDetails): RenderedEmail {
  // Named as the accept page names them (`inviterLabel`), so the two never disagree.
  const inviter = oneLine(inviterLabel(details.inviterName, details.inviterEmail) ?? "A teammate");
  const org = oneLine(details.organizationName);
  const project = details.projectName === null ? null : oneLine(details.projectName);
  const expires = formatDate(details.expiresAt);

  const subject =
    project === null
      ? `${inviter} invited you to join ${org} on Roster`
      : `${inviter} invited you to the ${project} project in ${org} on Roster`;
  const invitation =
    project === null
      ? `${inviter} invited you to join the organization ${org} as ${withArticle(details.role)}.`
      : `${inviter} invited you to join the project ${project} in ${org} as ${withArticle(details.projectRole ?? "viewer")}.`;
  const orgRoleNote =
    project === null
      ? null
      : `If you are not a member of ${org} yet, you will join it as ${withArticle(details.role)}.`;
  const expiry = `This invitation expires on ${expires}.`;
  const ignore = "If you were not expecting it, you can ignore this email.";

  const text = [
    invitation,
    ...(orgRoleNote ? [orgRoleNote] : []),
    "",
    "Accept the invitation:",
    details.link,
    "",
    `${expiry} ${ignore}`,
    "",
  ].join("\n");

  const e = escapeHtml;
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${e(subject)}</title></head>
<body style="margin:0;padding:24px;background:#f4f4f5;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#18181b">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px">
<tr><td style="padding:32px">
<h1 style="margin:0 0 16px;font-size:20px">${project === null ? `Join ${e(org)}` : `Join ${e(project)}`}</h1>
<p style="margin:0 0 12px;font-size:15px;line-height:1.5">${e(invitation)}</p>
${orgRoleNote ? `<p style="margin:0 0 12px;font-size:15px;line-height:1.5">${e(orgRoleNote)}</p>\n` : ""}<p style="margin:24px 0"><a href="${e(details.link)}" style="display:inline-block;padding:12px 20px;background:#2563eb;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600">Accept the invitation</a></p>
<p style="margin:0 0 12px;font-size:13px;line-height:1.5;color:#52525b">${e(expiry)} ${e(ignore)}</p>
<p style="margin:0;font-size:12px;line-height:1.5;color:#71717a;word-break:break-all">If the button does not work, open this link: ${e(details.link)}</p>
</td></tr>
</table>
</body>
</html>
`;

  return { to: headerValue(details.email), subject: headerValue(subject), text, html };
}

const HTML_ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
  "`": "&#96;",
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** A value safe for a header: control characters (CR, LF, NUL, TAB, …) become spaces, runs collapse. */
export function headerValue(value: string): string {
  return value
    .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

/** A name shown inside a sentence and the subject: one line, bounded. */
export function oneLine(value: string): string {
  const line = headerValue(value);
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}

export function withArticle(role: string): string {
  return `${/^[aeiou]/.test(role) ? "an" : "a"} ${role}`;
}

const DATE_FORMAT = new Intl.DateTimeFormat("en-US", {
  dateStyle: "long",
  timeStyle: "short",
  timeZone: "UTC",
});

export function formatDate(ms: number): string {
  return `${DATE_FORMAT.format(new Date(ms))} UTC`;
}
