import path from 'node:path';
import express from 'express';
import type { Router } from 'express';

/** Swagger UI from the npm package, served locally: the docs work on an intranet without a CDN. */
export function mountDocs(router: Router, openApi: Record<string, unknown>): void {
  const assets = path.dirname(require.resolve('swagger-ui-dist/package.json'));
  router.get('/api/v1/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  router.use('/docs/assets', express.static(assets, { index: false, maxAge: '1h' }));
  router.get('/docs/init.js', (_req, res) => {
    res
      .type('application/javascript')
      .send(
        "window.ui = SwaggerUIBundle({ url: '/api/v1/openapi.json', dom_id: '#docs', deepLinking: true, persistAuthorization: true });\n",
      );
  });
  router.get('/docs', (_req, res) => {
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
