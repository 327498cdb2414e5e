// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Node built-ins and I/O libraries that must never reach deterministic workflow code. */
const forbiddenInWorkflows = [
  'assert',
  'async_hooks',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
  'mongoose',
  'mongodb',
  'nodemailer',
  'handlebars',
  'express',
  'pino',
  'pino-http',
  'smtp-server',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'coverage/',
      '.stack/',
      '.artifacts/',
      'eslint.config.mjs',
      'jest.config.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    ignores: ['workflows/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: forbiddenInWorkflows.flatMap((name) => [
            { name, message: 'Workflow code must stay deterministic: do I/O in an activity.' },
            {
              name: `node:${name}`,
              message: 'Workflow code must stay deterministic: do I/O in an activity.',
            },
          ]),
          patterns: [
            {
              group: [
                '**/activities',
                '**/activities/*',
                '**/api',
                '**/api/*',
                '**/models',
                '**/models/*',
                '**/mail',
                '**/mail/*',
                '**/stack/*',
                '**/worker',
              ],
              allowTypeImports: true,
              message:
                'Workflows may import only types from activities, api, models, mail and stack.',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'fetch', 'require'],
    },
  },
  {
    // Plain JavaScript helpers (the jest reporter, the lockfile script) sit outside the
    // TypeScript project: lint them without type information.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The console's enhancement script runs in the browser, not in Node.
    files: ['console/static/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser } },
  },
);
