import { z } from 'zod';
import type { RouteRegistry } from '../pipeline';
import type { MailService } from '../../services/mail';
import { errorResponses } from './shared';

const mailSchema = z.object({
  id: z.string(),
  caseId: z.string(),
  template: z.string(),
  to: z.string().meta({
    description:
      'Mail: the address. Text messages: the phone masked (138****8000). Robots: their owner (unit:<id> or person:<id>), never the webhook.',
  }),
  channel: z.enum(['mail', 'sms', 'wecom', 'dingtalk']),
  status: z.enum(['pending', 'sending', 'sent', 'failed']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  createdAt: z.iso.datetime(),
  failedAt: z.iso.datetime().nullable(),
  nextAttemptAt: z.iso.datetime().nullable(),
});

const listQuery = z
  .object({ limit: z.coerce.number().int().min(1).max(500).default(100) })
  .strict();

/** A mail's business key, as the outbox stores it (`<case>:<step>:…`, `…~sms` for a fallback). */
const mailParams = z.object({
  id: z
    .string()
    .min(1)
    .max(300)
    .regex(/^[A-Za-z0-9:._~-]+$/, 'a mail business key'),
});

export function registerMailRoutes(routes: RouteRegistry, mail: MailService): void {
  routes.add<undefined, z.infer<typeof listQuery>>({
    method: 'get',
    path: '/api/v1/mail/failed',
    tag: 'mail',
    summary: 'Mail that failed: refused for good or expired after MAIL_EXPIRY_HOURS of retries',
    description:
      'Most recent failure first. Each mail names its case, template, recipient, attempts and the last SMTP error (addresses removed); never its text.',
    roles: ['admin'],
    query: listQuery,
    responses: {
      200: { description: 'Failed mail', schema: z.object({ items: z.array(mailSchema) }) },
      ...errorResponses(400, 401, 403),
    },
    async handle({ query }) {
      return { status: 200, body: { items: await mail.listFailed(query.limit) } };
    },
  });

  routes.add<z.infer<typeof mailParams>>({
    method: 'post',
    path: '/api/v1/mail/:id/resend',
    tag: 'mail',
    summary: 'Send a failed mail again (same Message-ID, a fresh expiry)',
    roles: ['admin'],
    params: mailParams,
    responses: {
      200: { description: 'The mail, pending again', schema: mailSchema },
      ...errorResponses(400, 401, 403, 404, 409),
    },
    async handle({ params }) {
      return { status: 200, body: await mail.resend(params.id) };
    },
  });
}
