/**
 * services/paths — which files a request may name. The desktop app and the command line read
 * whatever the user chooses; serve mode (anyone holding the token, through a browser) may read
 * only inside the data folder and the folders listed in ESM_STUDIO_ALLOW, so that a path source
 * cannot read, say, /etc/shadow. Every field named `path` in a request is a path on this computer
 * (the contract's convention), so one check covers every request, present and future.
 */
import { existsSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ApiError } from '../api/errors';

export const ALLOW_ENV = 'ESM_STUDIO_ALLOW';

export interface PathPolicy {
  /** Throws ApiError('refused') naming the first path of the request that lies outside the allowed folders. */
  check(input: unknown): void;
}

export const UNRESTRICTED: PathPolicy = { check: () => undefined };

/** The folders listed in ESM_STUDIO_ALLOW (separated like PATH: ':' here, ';' on Windows; a leading ~ is the home folder). */
export function allowedFoldersFromEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env[ALLOW_ENV] ?? '')
    .split(delimiter)
    .map((folder) => folder.trim().replace(/^~(?=$|[\\/])/, homedir()))
    .filter((folder) => folder !== '');
}

/** Every string under a key named `path`, at any depth of a request's input. */
export function requestPaths(input: unknown): string[] {
  if (Array.isArray(input)) return input.flatMap(requestPaths);
  if (typeof input !== 'object' || input === null) return [];
  return Object.entries(input).flatMap(([key, value]) => (key === 'path' && typeof value === 'string' ? [value] : requestPaths(value)));
}

/**
 * The path with every symlink resolved, so that a link inside an allowed folder cannot lead
 * outside it. A path that does not exist (yet) resolves through its nearest existing folder.
 */
export function realPath(path: string): string {
  const absolute = resolve(path);
  if (existsSync(absolute)) return realpathSync.native(absolute);
  const parent = dirname(absolute);
  return parent === absolute ? absolute : join(realPath(parent), basename(absolute));
}

function inside(folder: string, path: string): boolean {
  const rest = relative(folder, path);
  return rest === '' || (!isAbsolute(rest) && rest !== '..' && !rest.startsWith(`..${sep}`));
}

/** Paths only inside `folders` (the data folder first: it is named in the refusal). */
export function allowedFolders(folders: readonly string[]): PathPolicy {
  const roots = folders.map((folder) => ({ given: resolve(folder), real: realPath(folder) }));
  const listed = roots.map((root) => root.given).join(', ');
  return {
    check(input) {
      for (const path of requestPaths(input)) {
        const real = realPath(path);
        if (roots.some((root) => inside(root.real, real))) continue;
        throw new ApiError(
          'refused',
          `${path} is outside the folders ESM Studio may read in the browser (${listed}). ` +
            `Upload the file instead, move it into one of these folders, or restart \`npm run serve\` with its folder in ` +
            `${ALLOW_ENV} (e.g. ${ALLOW_ENV}=${dirname(resolve(path))}; separate several folders with "${delimiter}").`,
          { path },
        );
      }
    },
  };
}

/** The same handlers, each checking its input's paths against `policy` before it runs. */
export function checkingPaths<H extends object>(handlers: H, policy: PathPolicy): H {
  if (policy === UNRESTRICTED) return handlers;
  const entries = Object.entries(handlers as Record<string, (input: unknown) => unknown>).map(([method, handler]) => [
    method,
    (input: unknown) => {
      policy.check(input);
      return handler(input);
    },
  ]);
  return Object.fromEntries(entries) as H;
}
