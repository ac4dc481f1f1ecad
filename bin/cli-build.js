/**
 * The compiled CLI. `gameday` runs JavaScript that esbuild bundles from src/cli/main.ts, because
 * compiling the TypeScript through tsx at every start cost more than the whole start-up budget.
 *
 * A build is used only while it is what the sources say: dist/current.json lists every file the
 * build read (our sources, the bundled packages' files, this file, tsconfig.json, esbuild's
 * version) and the sha-256 over their contents. Any difference, and that start builds first (about
 * half a second), so an edit is never run stale. Reading and hashing the ~300 files took 15-20 ms
 * of every start, so, as git does for its index, the manifest also keeps each file's stamp (inode,
 * size, mtime and ctime, taken before the file was read): while every stamp matches, the start
 * reads no file. Any write changes ctime, which no tool can set back (utimes sets it to now), so
 * an edit that keeps size and mtime is still seen. A stamp is kept only for a file whose ctime is
 * older than the timestamp granularity (STAMP_AFTER_MS): a file written again within the same tick
 * would keep the same stamp. When a stamp differs, the start hashes the contents as before, and if
 * they are unchanged (a `touch`, a checkout of the same content) it keeps the build and renews the
 * stamps.
 * Builds are written to dist/<hash>/ and then named in current.json, so processes that start
 * side by side each see a complete build.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const MANIFEST = join(DIST, 'current.json');
const ENTRY = 'src/cli/main.ts';
/** What decides the output besides the sources esbuild reads. */
const BUILD_INPUTS = ['bin/cli-build.js', 'tsconfig.json', 'node_modules/esbuild/package.json'];
/**
 * Small pure-JavaScript packages nearly every command loads: bundled, they spare Node resolving
 * and reading their hundreds of files (zod alone is most of `validate`'s start-up). Every other
 * package is loaded from node_modules by the command that needs it: the Temporal SDK (a native
 * bridge, webpack for the workflows), the AWS SDK.
 */
const BUNDLED_PACKAGES = new Set(['commander', 'picocolors', 'yaml', 'zod']);
const LOADERS = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.json': 'json',
};
/** Builds other than the current one are removed once they are this old. */
const KEEP_OLD_BUILDS_MS = 24 * 60 * 60 * 1000;
/**
 * File times tick coarsely (a jiffy, up to 10 ms; seconds on some file systems): a stamp is kept
 * only for files whose ctime is at least this old, or a second write in the same tick could hide.
 */
const STAMP_AFTER_MS = 2_000;

/** The path of the compiled CLI's entry, built now if the sources changed since the last build. */
export async function compiledCli() {
  const current = readManifest();
  if (current && existsSync(entryOf(current.hash))) {
    if (stampsMatch(current)) return entryOf(current.hash);
    const stamps = {};
    if (hashOf(current.inputs, new Map(), stamps) === current.hash) {
      renewStamps(current, stamps);
      return entryOf(current.hash);
    }
  }
  return build();
}

function entryOf(hash) {
  return join(DIST, hash, 'main.js');
}

function readManifest() {
  try {
    return JSON.parse(readFileSync(MANIFEST, 'utf8'));
  } catch {
    return null;
  }
}

/** Written beside and renamed into place, so that a start never reads half a manifest. */
function writeManifest(manifest) {
  const staging = join(DIST, `.current-${process.pid}.json`);
  writeFileSync(staging, JSON.stringify(manifest));
  renameSync(staging, MANIFEST);
}

/** Best effort: a dist/ this user cannot write (an install owned by root) still runs its build. */
function renewStamps(current, stamps) {
  if (JSON.stringify(stamps) === JSON.stringify(current.stamps ?? {})) return;
  try {
    writeManifest({ hash: current.hash, inputs: current.inputs, stamps });
  } catch {
    // The next start hashes again.
  }
}

/** A file's stamp, or null if it is too fresh to be told apart from a write in the same tick. */
function stampOf(path) {
  const stat = statSync(path);
  if (!(Date.now() - stat.ctimeMs >= STAMP_AFTER_MS)) return null;
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
}

/** Whether every input still has the stamp it had when it was read for the manifest's hash. */
function stampsMatch({ inputs, stamps }) {
  if (!stamps) return false;
  try {
    return inputs.every((input) => stamps[input] && stampOf(join(ROOT, input)) === stamps[input]);
  } catch {
    return false; // an input is gone: hashOf says so
  }
}

/**
 * The build's identity: every input's path and content. Null if an input is gone. Inputs read here
 * get their stamp, taken before the read, into `stamps`.
 */
function hashOf(inputs, contents = new Map(), stamps = {}) {
  const hash = createHash('sha256');
  for (const input of inputs) {
    let content = contents.get(input);
    if (content === undefined) {
      try {
        const stamp = stampOf(join(ROOT, input));
        content = readFileSync(join(ROOT, input));
        if (stamp) stamps[input] = stamp;
      } catch {
        return null;
      }
    }
    hash.update(`${input}\0${content.length}\0`);
    hash.update(content);
  }
  return hash.digest('hex').slice(0, 20);
}

async function build() {
  let esbuild;
  try {
    ({ build: esbuild } = await import('esbuild'));
  } catch (error) {
    throw new BuildFailed(
      `cannot load esbuild, which compiles the CLI (run scripts/bootstrap): ${error.message}`,
    );
  }
  try {
    return await buildWith(esbuild);
  } catch (error) {
    if (error instanceof BuildFailed) throw error;
    throw new BuildFailed(`cannot write the compiled CLI under ${DIST}: ${error.message}`);
  }
}

async function buildWith(esbuild) {
  mkdirSync(DIST, { recursive: true });
  const staging = join(DIST, `.staging-${process.pid}-${Date.now()}`);
  // What esbuild compiled, byte for byte: a file saved during the build cannot pass for built.
  const contents = new Map();
  const stamps = {};
  let result;
  try {
    result = await esbuild({
      absWorkingDir: ROOT,
      entryPoints: [ENTRY],
      outdir: staging,
      entryNames: '[name]',
      chunkNames: 'chunk-[hash]',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node22',
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'silent',
      // CommonJS packages in the bundle (commander) call require() for Node's own modules.
      banner: {
        js: "import { createRequire as __gamedayCreateRequire } from 'node:module'; const require = __gamedayCreateRequire(import.meta.url);",
      },
      plugins: [
        {
          name: 'gameday',
          setup(builder) {
            builder.onResolve({ filter: /^[^./]/ }, ({ path, importer }) => {
              if (path.startsWith('node:')) return { external: true };
              const bundled = BUNDLED_PACKAGES.has(packageOf(path)) || importer.includes('/node_modules/');
              return bundled ? undefined : { external: true };
            });
            builder.onLoad({ filter: /\.([cm]?[jt]s|json)$/ }, ({ path }) => {
              const stamp = stampOf(path);
              const content = readFileSync(path);
              contents.set(relative(ROOT, path), content);
              if (stamp) stamps[relative(ROOT, path)] = stamp;
              return { contents: content, loader: LOADERS[extname(path)] };
            });
          },
        },
      ],
    });
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!error.errors) throw error;
    // One line per error, file:line:col  message, as `gameday validate` reports a file.
    const lines = error.errors.map(({ location, text }) =>
      location ? `${location.file}:${location.line}:${location.column + 1}  ${text}` : text,
    );
    throw new BuildFailed(`the sources do not compile:\n${lines.join('\n')}`);
  }
  // What each output imports, for test/unit/cli-startup.test.ts; nothing reads it at run time.
  writeFileSync(join(staging, 'meta.json'), JSON.stringify(result.metafile));
  const inputs = [...new Set([...Object.keys(result.metafile.inputs), ...BUILD_INPUTS])].sort();
  const hash = hashOf(inputs, contents, stamps);
  const target = join(DIST, hash);
  if (existsSync(target)) rmSync(staging, { recursive: true, force: true });
  else renameSync(staging, target);
  writeManifest({ hash, inputs, stamps });
  removeOldBuilds(hash);
  return entryOf(hash);
}

/** `zod/v4/core` -> `zod`, `@temporalio/client/lib/x` -> `@temporalio/client`. */
function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Old builds can still be in use by a long-running worker, so they go after a day, not at once. */
function removeOldBuilds(current) {
  const now = Date.now();
  for (const name of readdirSync(DIST)) {
    if (name === current || name === 'current.json') continue;
    const path = join(DIST, name);
    try {
      if (now - statSync(path).mtimeMs > KEEP_OLD_BUILDS_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // Removed by a process building at the same time.
    }
  }
}

export class BuildFailed extends Error {
  name = 'BuildFailed';
}
