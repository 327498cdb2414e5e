import { formatInstant } from '../format';
import type { ConsoleKit } from '../kit';
import { BASE, doneNotice, field } from '../pipeline';

const DONE = ['resent'] as const;

/**
 * Failed mail for admins (the outbox's `failed` documents, as `GET /api/v1/mail/failed`): the
 * case, template, recipient (admins see everyone's address), attempts and the last SMTP error
 * with addresses removed; never a mail's text. "Send again" is `POST /api/v1/mail/:id/resend`.
 * Below, the latest text messages and robot posts (status, attempts, channel, recipient masked).
 */
export function registerMailPages({ pages, services }: ConsoleKit): void {
  pages.add({
    method: 'get',
    path: '/admin/mail',
    access: ['admin'],
    handle: async (ctx) => {
      const failed = await services.mail.listFailed(200);
      // chosen: the last 50 are enough to see what went out; older ones are in the store
      const channelMessages = await services.mail.listChannelMessages(50);
      return {
        view: 'admin-mail',
        model: {
          title: ctx.t('admin.mail.title'),
          notice: doneNotice(ctx, DONE, 'admin.mail.done.'),
          mail: failed.map((m) => ({
            id: m.id,
            caseId: m.caseId,
            caseHref: `${BASE}/cases/${encodeURIComponent(m.caseId)}`,
            template: m.template,
            to: m.to,
            channel: m.channel,
            attempts: m.attempts,
            reason: m.lastError ?? '',
            failedAt: m.failedAt ? formatInstant(m.failedAt) : '',
          })),
          channelMessages: channelMessages.map((m) => ({
            caseId: m.caseId,
            caseHref: `${BASE}/cases/${encodeURIComponent(m.caseId)}`,
            template: m.template,
            // Already masked by the service: a phone as 138****8000, a robot by its owner.
            to: m.to,
            channel: m.channel,
            status: m.status,
            attempts: m.attempts,
            reason: m.lastError ?? '',
            createdAt: formatInstant(m.createdAt),
          })),
        },
      };
    },
  });

  pages.add({
    method: 'post',
    path: '/admin/mail/resend',
    access: ['admin'],
    handle: async (ctx) => {
      await services.mail.resend(field(ctx.form, 'id'));
      return { redirect: `${BASE}/admin/mail?done=resent` };
    },
  });
}
