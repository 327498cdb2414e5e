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

export function createSmtpTransport(smtpUrl: string): MailTransport {
  const transporter = nodemailer.createTransport(smtpUrl);
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
