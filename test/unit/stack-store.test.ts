import { mkdir, mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findPostgres, restoreLibrarySymlinks, storeFromEnv } from '../../stack/postgres';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stack-store-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the local stack’s store', () => {
  it('when STACK_STORE is unset or empty, then FerretDB stays on SQLite', () => {
    // Act / Assert
    expect(storeFromEnv({})).toBe('sqlite');
    expect(storeFromEnv({ STACK_STORE: '' })).toBe('sqlite');
    expect(storeFromEnv({ STACK_STORE: 'postgresql' })).toBe('postgresql');
  });

  it('when STACK_STORE names no store, then start-up fails naming the value and the choices', () => {
    // Act / Assert
    expect(() => storeFromEnv({ STACK_STORE: 'postgres' })).toThrow(
      'STACK_STORE=postgres is not a store: use sqlite or postgresql',
    );
  });

  it('when POSTGRESQL_BIN_DIR lacks the server binaries, then the error names the folder and the missing one', async () => {
    // Arrange: a folder with initdb but no postgres
    await writeFile(path.join(dir, 'initdb'), '');

    // Act / Assert
    await expect(findPostgres({ POSTGRESQL_BIN_DIR: dir })).rejects.toThrow(
      `POSTGRESQL_BIN_DIR=${dir} has no postgres`,
    );
  });

  it('when the binaries package lost its library symlinks (npm skipped its postinstall), then they are restored relative, and existing ones are kept', async () => {
    // Arrange: a package folder listing two links, one of them already present
    await mkdir(path.join(dir, 'native', 'lib'), { recursive: true });
    await writeFile(path.join(dir, 'native', 'lib', 'libicuuc.so.60.2'), 'library');
    await writeFile(path.join(dir, 'native', 'lib', 'libpq.so.5'), 'kept as it is');
    await writeFile(
      path.join(dir, 'native', 'pg-symlinks.json'),
      JSON.stringify([
        { source: 'native/lib/libicuuc.so.60.2', target: 'native/lib/libicuuc.so.60' },
        { source: 'native/lib/libpq.so.5.17', target: 'native/lib/libpq.so.5' },
      ]),
    );

    // Act: twice, as two starts would
    await restoreLibrarySymlinks(dir);
    await restoreLibrarySymlinks(dir);

    // Assert
    expect(await readlink(path.join(dir, 'native', 'lib', 'libicuuc.so.60'))).toBe(
      'libicuuc.so.60.2',
    );
    await expect(readlink(path.join(dir, 'native', 'lib', 'libpq.so.5'))).rejects.toThrow();
  });
});
