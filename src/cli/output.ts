/**
 * Where commands write: files, directories and standard output. A file-system error becomes one
 * line that names the path and says why in words, exit 73 (sysexits' CANTCREAT) for output; a
 * command checks a directory before it acts, so a bad --out changes nothing.
 */
import { constants, statSync } from 'node:fs';
import { access, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CliError, EXIT } from './exit-codes';

export function isFsError(error: unknown): error is NodeJS.ErrnoException {
  return (
    error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && 'syscall' in error
  );
}

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  EIO: 'input/output error',
};

/** Why a file-system call failed, in words, naming the path it failed on when that is not `about`. */
export function fsReason(error: unknown, about?: string): string {
  if (!isFsError(error)) return (error as Error).message;
  if ((error.code === 'ENOTDIR' || error.code === 'EEXIST') && error.path) {
    const file = fileOnTheWay(error.path);
    if (file) return `${file} is a file, not a directory`;
  }
  const reason =
    REASONS[error.code ?? ''] ?? error.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
  return error.path && about && resolve(error.path) !== resolve(about) ? `${error.path}: ${reason}` : reason;
}

/** `path`, or its nearest ancestor, that exists and is not a directory. */
function fileOnTheWay(path: string): string | null {
  for (let current = resolve(path); ; current = dirname(current)) {
    try {
      return statSync(current).isDirectory() ? null : current;
    } catch {
      if (dirname(current) === current) return null;
    }
  }
}

/** Output could not be written (exit 73). */
export class OutputError extends CliError {
  constructor(path: string, error: unknown) {
    super(`cannot write ${path}: ${fsReason(error, path)}`, EXIT.cannotCreate);
    this.name = 'OutputError';
  }
}

/** Writes a file, creating its directory as `run --out` does. */
export async function writeOutput(path: string, text: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  } catch (error) {
    throw new OutputError(path, error);
  }
}

/** Writes to standard output, waiting until it took the text: a full disk is an error, not silence. */
export function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // The stream reports a failed write twice, to the callback and then as an 'error' event: the
    // listener stays so that the second one is not an uncaught exception.
    const done = (error?: Error | null) => {
      // A reader that went away (`| head`) wanted no more: that is not a failure.
      if (!error || (error as NodeJS.ErrnoException).code === 'EPIPE') resolve();
      else reject(new OutputError('standard output', error));
    };
    process.stdout.once('error', done);
    process.stdout.write(text, done);
  });
}

/**
 * Whether `dir` could be created and written, without creating anything: its nearest existing
 * ancestor must be a directory this process may write into.
 */
export async function checkWritableDirectory(dir: string): Promise<void> {
  let current = resolve(dir);
  for (;;) {
    try {
      if (!(await stat(current)).isDirectory()) {
        throw Object.assign(new Error(`not a directory: ${current}`), {
          code: 'ENOTDIR',
          syscall: 'mkdir',
          path: resolve(dir),
        });
      }
      await access(current, constants.W_OK | constants.X_OK);
      return;
    } catch (error) {
      const parent = dirname(current);
      if (isFsError(error) && error.code === 'ENOENT' && parent !== current) {
        current = parent;
        continue;
      }
      throw new OutputError(dir, error);
    }
  }
}
