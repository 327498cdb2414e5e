import type { ConsoleKit } from '../kit';

/**
 * Photos in the console: a case's photos and thumbnails for the signed-in (the API's scope rules:
 * whoever may see the case or has one of its tasks), and a published case's photos on the public
 * board when its publish step shows them. Both answer 404 for anything else.
 */
export function registerAttachmentPages({ pages, services }: ConsoleKit): void {
  for (const variant of ['image', 'thumbnail'] as const) {
    const suffix = variant === 'image' ? '' : '/thumbnail';
    pages.add({
      method: 'get',
      path: `/attachments/:id${suffix}`,
      access: 'signed-in',
      handle: async (ctx) => {
        const file = await services.attachments.read(
          ctx.principal!,
          String(ctx.req.params.id),
          variant,
        );
        return { file: { headers: file.headers, body: file.data } };
      },
    });
    pages.add({
      method: 'get',
      path: `/board/:caseId/photos/:id${suffix}`,
      access: 'public',
      handle: async (ctx) => {
        const file = await services.board.photo(
          String(ctx.req.params.caseId),
          String(ctx.req.params.id),
          variant,
        );
        return { file: { headers: file.headers, body: file.data } };
      },
    });
  }
}
