import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { generateCodecKey, parseCodecKeys } from '../common/payload-codec';
import { stackDirs } from './paths';

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
export async function ensureCodecKeys(dataDir: string): Promise<string> {
  const file = codecKeyFile(dataDir);
  if (existsSync(file)) {
    const keys = (await readFile(file, 'utf8')).trim();
    try {
      parseCodecKeys(keys);
    } catch (err) {
      throw new Error(
        `${file} is not a valid TEMPORAL_CODEC_KEYS value: ${(err as Error).message}`,
      );
    }
    return keys;
  }
  const keys = generateCodecKey(`local-${new Date().toISOString().slice(0, 10)}`);
  await writeFile(file, `${keys}\n`, { mode: 0o600, flag: 'wx' });
  return keys;
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
