import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..');

/**
 * Where the local stack keeps things. Binaries are shared by every run of this checkout;
 * data (Temporal's SQLite file, FerretDB's files, received mail) can be put elsewhere, which the
 * tests do to start from nothing.
 */
export interface StackDirs {
  bin: string;
  downloads: string;
  data: string;
  logs: string;
  mail: string;
  /** What the webhook sink received (robot and SMS posts). */
  webhooks: string;
}

export function stackDirs(options: { root?: string; dataDir?: string } = {}): StackDirs {
  const root = options.root ?? process.env.STACK_DIR ?? path.join(PROJECT_ROOT, '.stack');
  const data = options.dataDir ?? path.join(root, 'data');
  return {
    bin: path.join(root, 'bin'),
    downloads: path.join(root, 'downloads'),
    data,
    logs: path.join(data, 'logs'),
    mail: path.join(data, 'mail'),
    webhooks: path.join(data, 'webhooks'),
  };
}
