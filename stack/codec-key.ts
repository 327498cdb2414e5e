import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { generateCodecKey, parseCodecKeys } from '../common/payload-codec';
import { stackDirs } from './paths';
import { ensureSecretFile } from './secret-file';

/** Where a stack keeps its payload codec key: beside the Temporal history it encrypts. */
export function codecKeyFile(dataDir: string): string {
  return path.join(dataDir, 'temporal-codec-keys');
}

/**
 * The local stack's TEMPORAL_CODEC_KEYS: generated into the data folder on first start (a file
 * only this user can read), the same on every later start, so histories written earlier still
 * decrypt. A file that no longer parses is an error naming it, never silently replaced: a new key
 * would make every recorded payload unreadable.
 */
export function ensureCodecKeys(dataDir: string): Promise<string> {
  return ensureSecretFile(
    codecKeyFile(dataDir),
    'TEMPORAL_CODEC_KEYS value',
    (keys) => {
      try {
        parseCodecKeys(keys);
        return null;
      } catch (err) {
        return (err as Error).message;
      }
    },
    () => generateCodecKey(`local-${new Date().toISOString().slice(0, 10)}`),
  );
}

/**
 * The environment with the local stack's key added when it points at the local stack (no
 * TEMPORAL_ADDRESS) and names no key: for tools run beside `npm start`, such as `npm run seed`.
 */
export function withLocalStackCodecKeys(
  env: NodeJS.ProcessEnv,
  dataDir = stackDirs().data,
): NodeJS.ProcessEnv {
  if (env.TEMPORAL_CODEC_KEYS || env.TEMPORAL_ADDRESS || env.TEMPORAL_CODEC_DISABLED === 'true') {
    return env;
  }
  const file = codecKeyFile(dataDir);
  return existsSync(file)
    ? { ...env, TEMPORAL_CODEC_KEYS: readFileSync(file, 'utf8').trim() }
    : env;
}
