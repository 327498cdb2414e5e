import path from 'node:path';
import express from 'express';
import type { Router } from 'express';

/**
 * The docs page's Content Security Policy: Swagger UI's script, styles and the init script all
 * come from this server (no inline script or `<style>`; React sets its inline styles through the
 * DOM, which CSP allows), its icons are `data:` images in its stylesheet, and it fetches the
 * OpenAPI document and "Try it out" requests from this origin only. No frames, plugins or
 * `<base>`.
 */
export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Swagger UI from the npm package, served locally: the docs work on an intranet without a CDN. */
export function mountDocs(router: Router, openApi: Record<string, unknown>): void {
  const assets = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  router.get('/api/v1/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  router.use('/docs/assets', express.static(assets, { index: false, maxAge: '1h' }));
  router.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(
      // validatorUrl: null, or the page would fetch a badge from validator.swagger.io.
      "window.ui = SwaggerUIBundle({ url: '/api/v1/openapi.json', dom_id: '#docs', deepLinking: true, persistAuthorization: true, validatorUrl: null });\n",
    );
  });
  router.get('/docs', (_req, res) => {
    res.setHeader('Content-Security-Policy', DOCS_CSP);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'same-origin');
    res.type('html').send(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>API documentation</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`);
  });
}
