import { escapeHtml, formatDate, headerValue, oneLine, type RenderedEmail } from "./template";

export interface PlatformInvitationDetails {
  email: string;
  productName: string;
  inviterName: string | null;
  inviterEmail: string | null;
  expiresAt: number;
  link: string;
}

/**
 * The platform invitation email: who invited them to which product, the expiry, one button.
 * Untrusted values are escaped in HTML and single-lined in the subject, as for invites.
 */
export function renderPlatformInvitation(details: PlatformInvitationDetails): RenderedEmail {
  const inviter = oneLine(details.inviterName ?? "") || oneLine(details.inviterEmail ?? "");
  const product = oneLine(details.productName);
  const subject = inviter ? `${inviter} invited you to ${product}` : `You are invited to ${product}`;
  const invitation = inviter ? `${inviter} invited you to join ${product}.` : `You are invited to join ${product}.`;
  const expiry = `This invitation expires on ${formatDate(details.expiresAt)}.`;
  const ignore = "If you were not expecting it, you can ignore this email.";
  const text = [invitation, "", "Accept the invitation:", details.link, "", `${expiry} ${ignore}`, ""].join("\n");
  const e = escapeHtml;
  const html = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${e(subject)}</title></head>
<body style="margin:0;padding:24px;background:#f4f4f5;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#18181b">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px">
<tr><td style="padding:32px">
<h1 style="margin:0 0 16px;font-size:20px">Join ${e(product)}</h1>
<p style="margin:0 0 12px;font-size:15px;line-height:1.5">${e(invitation)}</p>
<p style="margin:24px 0"><a href="${e(details.link)}" style="display:inline-block;padding:12px 20px;background:#2563eb;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600">Accept the invitation</a></p>
<p style="margin:0 0 12px;font-size:13px;line-height:1.5;color:#52525b">${e(expiry)} ${e(ignore)}</p>
<p style="margin:0;font-size:12px;line-height:1.5;color:#71717a;word-break:break-all">If the button does not work, open this link: ${e(details.link)}</p>
</td></tr>
</table>
</body>
</html>
`;
  return { to: headerValue(details.email), subject: headerValue(subject), text, html };
}
