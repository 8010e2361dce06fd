export interface CaughtMessage {
  envelope: { from: string | null; to: string[] };
  receivedAt: string;
  /** Top-level headers in order, unfolded, values as sent. */
  headers: [string, string][];
  subject: string;
  from: string;
  to: string;
  messageId: string | null;
  text: string | null;
  html: string | null;
  /** The first http(s) link of the text part. */
  link: string | null;
  raw: string;
}

export interface MailSink {
  port: number;
  messages: CaughtMessage[];
  close(): Promise<void>;
}

export function startMailSink(options?: {
  host?: string;
  port?: number;
  faults?: boolean;
  onMessage?: (message: CaughtMessage) => void;
}): Promise<MailSink>;

export function parseMessage(raw: string): Omit<CaughtMessage, "envelope" | "receivedAt" | "raw">;
