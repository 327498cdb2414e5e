import nodemailer from 'nodemailer';
import { toHeaderValue } from './renderer';

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
  /** Deterministic per business key, so a receiver can drop the rare duplicate after a crash. */
  messageId: string;
}

/** The transport boundary: SMTP in every environment (a relay in production, the sink locally). */
export interface MailTransport {
  send(mail: OutgoingMail): Promise<void>;
  verify(): Promise<void>;
  close(): void;
}

/**
 * SMTP through nodemailer. With `pool`, connections are kept open and reused (the worker's outbox
 * dispatcher sends batches in parallel over at most `maxConnections` of them); without it, one
 * connection per mail (short-lived tools and tests, which need no `close()`).
 */
export function createSmtpTransport(
  smtpUrl: string,
  pool?: { maxConnections: number },
): MailTransport {
  const transporter = pool
    ? nodemailer.createTransport({
        url: smtpUrl,
        pool: true,
        maxConnections: pool.maxConnections,
        // chosen: a connection is renewed after 100 mails, nodemailer's default
        maxMessages: 100,
      })
    : nodemailer.createTransport(smtpUrl);
  return {
    async send(mail) {
      await transporter.sendMail({
        from: toHeaderValue(mail.from),
        to: toHeaderValue(mail.to),
        subject: toHeaderValue(mail.subject),
        html: mail.html,
        text: mail.text,
        messageId: mail.messageId,
      });
    },
    async verify() {
      await transporter.verify();
    },
    close() {
      transporter.close();
    },
  };
}
