import { mkdir, mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  defaultStore,
  findPostgres,
  restoreLibrarySymlinks,
  storeFromEnv,
} from '../../stack/postgres';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stack-store-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the local stack’s store', () => {
  it('when STACK_STORE is unset or empty, then it asks for nothing and the default decides', () => {
    // Act / Assert
    expect(storeFromEnv({})).toBeNull();
    expect(storeFromEnv({ STACK_STORE: '' })).toBeNull();
    expect(storeFromEnv({ STACK_STORE: 'postgresql' })).toBe('postgresql');
    expect(storeFromEnv({ STACK_STORE: 'sqlite' })).toBe('sqlite');
  });

  it('when a fresh data folder and PostgreSQL can run, then the default store is PostgreSQL', async () => {
    // Arrange: binaries where POSTGRESQL_BIN_DIR points (their content is not run by the choice)
    await writeFile(path.join(dir, 'initdb'), '');
    await writeFile(path.join(dir, 'postgres'), '');
    const runsAsRoot = process.getuid?.() === 0;

    // Act
    const chosen = await defaultStore({ POSTGRESQL_BIN_DIR: dir }, path.join(dir, 'data'));

    // Assert: as root it needs the `postgres` user, which this machine may lack
    if (!runsAsRoot || chosen.store === 'postgresql') {
      expect(chosen).toEqual({ store: 'postgresql', why: 'PostgreSQL' });
    } else {
      expect(chosen.why).toContain('no user "postgres"');
    }
  });

  it('when the data folder already keeps SQLite data and no PostgreSQL data, then the stack stays on SQLite and says why', async () => {
    // Arrange: a stack started on SQLite before PostgreSQL became the default
    await mkdir(path.join(dir, 'data', 'ferretdb'), { recursive: true });
    await writeFile(path.join(dir, 'data', 'ferretdb', 'governance.sqlite'), '');

    // Act
    const chosen = await defaultStore({}, path.join(dir, 'data'));

    // Assert
    expect(chosen.store).toBe('sqlite');
    expect(chosen.why).toContain('already keeps its documents there');
  });

  it('when PostgreSQL binaries cannot be found, then the default falls back to SQLite naming the reason', async () => {
    // Act: a bin folder without the server binaries
    const chosen = await defaultStore({ POSTGRESQL_BIN_DIR: dir }, path.join(dir, 'data'));

    // Assert
    expect(chosen).toEqual({
      store: 'sqlite',
      why: `SQLite: PostgreSQL cannot run here (POSTGRESQL_BIN_DIR=${dir} has no initdb)`,
    });
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
