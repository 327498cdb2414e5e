// @ts-check
import js from '@eslint/js';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Node built-ins and I/O libraries that must never reach the workflow bundle (lang/, common/). */
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

/** The common/ files workflow code imports values from; everything else in common/ only as types. */
const commonForWorkflows = [
  'case',
  'case-measures',
  'case-served',
  'case-start',
  'evaluation',
  'recurrence',
  'roles',
  'search-attributes',
];

/** Those, plus the common/ files they and lang/ import values from: all end up in the bundle. */
const sandboxCommonFiles = [...commonForWorkflows, 'org-tree', 'roles'];

/**
 * Import specifiers (regular expressions) a workflow file may take values from, for a file
 * `depth` folders below workflows/ (0 for workflows/*.ts, 1 for workflows/steps/*.ts).
 */
function importableFromWorkflows(depth) {
  const up = '\\.\\./'.repeat(depth + 1);
  const workflowFolders = Array.from({ length: depth + 1 }, (_, i) =>
    i === 0 ? '\\./[^/]+' : `${'\\.\\./'.repeat(i)}[^/]+`,
  );
  // workflows/*.ts may also reach into steps/ (the dispatch and handler registration do).
  if (depth === 0) workflowFolders.push('\\./steps(?:/[^/]+)?');
  return [
    '@temporalio/workflow',
    // The SDK's own pure types and helpers (defineSearchAttributeKey), which the workflow package
    // does not all re-export.
    '@temporalio/common',
    ...workflowFolders,
    `${up}lang/[^/]+`,
    `${up}common/(?:${commonForWorkflows.join('|')})`,
  ];
}

/** The sandbox rule for the workflow files `depth` folders below workflows/. */
function sandboxBoundary(files, depth) {
  return {
    // The workflow sandbox boundary, as an allow-list: workflow code imports values only from
    // the workflow SDK, workflows/ itself, the definition language and the named common/ files;
    // anything else (activities, models, services, Node, I/O libraries) only as types.
    files,
    ignores: ['workflows/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `^(?!(?:${importableFromWorkflows(depth).join('|')})$)`,
              caseSensitive: true,
              allowTypeImports: true,
              message:
                'Workflow code runs in the deterministic sandbox: import values only from @temporalio/workflow, @temporalio/common, workflows/, lang/ and ' +
                commonForWorkflows.map((name) => `common/${name}`).join(', ') +
                ' (others as types only; do I/O in an activity).',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'fetch', 'require'],
    },
  };
}

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
  sandboxBoundary(['workflows/*.ts'], 0),
  sandboxBoundary(['workflows/steps/*.ts'], 1),
  {
    // What the workflow bundle pulls in besides workflows/ must be sandbox-safe itself.
    files: ['lang/**/*.ts', ...sandboxCommonFiles.map((name) => `common/${name}.ts`)],
    ignores: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: forbiddenInWorkflows.flatMap((name) => [
            { name, message: 'The workflow bundle includes this file: keep it free of I/O.' },
            {
              name: `node:${name}`,
              message: 'The workflow bundle includes this file: keep it free of I/O.',
            },
          ]),
        },
      ],
    },
  },
  {
    // No import cycles in the application: a cycle makes load order decide what a module sees
    // and blurs which layer owns what. Tests may sit on both sides of anything.
    files: ['**/*.ts'],
    ignores: ['test/**', '**/*.test.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.js', '.mjs'],
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs'] })],
    },
    rules: { 'import-x/no-cycle': ['error', { ignoreExternal: true }] },
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
