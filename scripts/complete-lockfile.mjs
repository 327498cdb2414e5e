// Adds lockfile entries for platform-specific optional packages that npm left out.
//
// Why: @swc/core (needed by @temporalio/worker's bundler) and unrs-resolver (jest) ship one
// optional package per OS/CPU. When the registry npm talks to does not carry some of them (as
// on the project's build machines), `npm install` silently leaves them out of
// package-lock.json, and `npm ci` then refuses the lockfile as out of sync. An entry with the
// package's os/cpu lets `npm ci` skip it on other platforms and fetch it on its own.
//
// Run after changing dependencies: `npm install && node scripts/complete-lockfile.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';

const LOCKFILE = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(LOCKFILE, 'utf8'));
const packages = lock.packages;

/** os, cpu and libc from a platform package's name, e.g. `core-linux-arm-gnueabihf`. */
function platformOf(name) {
  const match =
    /-(darwin|linux|win32|android|freebsd|openharmony)-(x64|arm64|arm|ia32|ppc64|s390x|riscv64|loong64)(?:-(gnu|musl|msvc|eabi|gnueabihf|musleabihf))?$/.exec(
      name,
    );
  if (!match) return undefined;
  const [, os, cpu, abi] = match;
  const libc =
    abi === 'gnu' || abi === 'gnueabihf' ? 'glibc' : abi?.startsWith('musl') ? 'musl' : undefined;
  return { os: [os], cpu: [cpu], ...(libc ? { libc: [libc] } : {}) };
}

let added = 0;
for (const [location, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const base =
      location === ''
        ? 'node_modules'
        : `${location.replace(/\/node_modules\/[^/]+(\/[^/]+)?$/, '')}/node_modules`;
    const hoisted = `node_modules/${name}`;
    if (
      packages[hoisted] ||
      packages[`${base}/${name}`] ||
      packages[`${location}/node_modules/${name}`]
    )
      continue;
    const platform = platformOf(name);
    if (!platform || !/^\d+\.\d+\.\d+/.test(version)) continue;
    packages[hoisted] = { version, ...platform, optional: true };
    added++;
  }
}

const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) =>
    a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0,
  ),
);
lock.packages = sorted;
writeFileSync(LOCKFILE, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform package entries`);
