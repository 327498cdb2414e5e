import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseCodecKeys } from '../../common/payload-codec';
import { codecKeyFile, ensureCodecKeys, withLocalStackCodecKeys } from '../../stack/codec-key';

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'codec-key-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('the local stack’s payload codec key', () => {
  it('when a stack starts twice on one data folder, then the key is generated once, private, and reused', async () => {
    // Act
    const first = await ensureCodecKeys(dataDir);
    const second = await ensureCodecKeys(dataDir);

    // Assert
    expect(second).toBe(first);
    expect(parseCodecKeys(first)).toHaveLength(1);
    expect((await readFile(codecKeyFile(dataDir), 'utf8')).trim()).toBe(first);
    expect((await stat(codecKeyFile(dataDir))).mode & 0o777).toBe(0o600);
  });

  it('when the key file is damaged, then start-up fails naming the file instead of replacing the key', async () => {
    // Arrange
    await writeFile(codecKeyFile(dataDir), 'local:tooshort\n');

    // Act
    const ensuring = ensureCodecKeys(dataDir);

    // Assert
    await expect(ensuring).rejects.toThrow(
      `${codecKeyFile(dataDir)} is not a valid TEMPORAL_CODEC_KEYS value: entry 1 (key id "local")`,
    );
  });

  it('when a tool runs beside the local stack without keys, then it gets the stack’s key; with its own Temporal or keys, not', async () => {
    // Arrange
    const keys = await ensureCodecKeys(dataDir);

    // Act
    const local = withLocalStackCodecKeys({}, dataDir);
    const remote = withLocalStackCodecKeys({ TEMPORAL_ADDRESS: 'temporal:7233' }, dataDir);
    const own = withLocalStackCodecKeys({ TEMPORAL_CODEC_KEYS: 'mine' }, dataDir);

    // Assert
    expect(local.TEMPORAL_CODEC_KEYS).toBe(keys);
    expect(remote.TEMPORAL_CODEC_KEYS).toBeUndefined();
    expect(own.TEMPORAL_CODEC_KEYS).toBe('mine');
  });
});
