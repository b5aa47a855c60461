/**
 * Backend selection at load time, from the one table in backend-core:
 * ASYNC_IO_BACKEND override, else the platform's backend, else (only when
 * that one is not installed or cannot load) poll, announced once.
 */
import type { BackendName } from '@async-io/backend-core';
import {
  BACKEND_NAMES,
  backendRow,
  type BackendModule,
  codedError,
  FALLBACK_BACKEND,
  preferredBackend,
} from '@async-io/backend-core/internal';

/** One backend the selection tried, and what came of it (`backendInfo().tried`). */
export interface Attempt {
  backend: BackendName;
  package: string;
  /** 'loaded', 'not-installed', 'cannot-load' (binary missing/broken) or 'unsupported-os' (a stub build) */
  outcome: 'loaded' | 'not-installed' | 'cannot-load' | 'unsupported-os';
  detail?: string;
}

/** @internal */
export interface Selection {
  name: BackendName;
  package: string;
  version: string;
  module: BackendModule;
  /** Why this backend: 'ASYNC_IO_BACKEND=poll', 'platform linux', 'fallback: ...' */
  reason: string;
  tried: Attempt[];
}

/** Test seam: how a backend package is required (tests swap in emulated builds). @internal */
export type Loader = (pkg: string) => BackendModule;

// A backend's /internal module: its public API plus the addon the reactor drives.
const defaultLoader: Loader = (pkg) => require(`${pkg}/internal`) as BackendModule;

function isMissing(error: unknown, pkg: string): boolean {
  const e = error as NodeJS.ErrnoException;
  return e?.code === 'MODULE_NOT_FOUND' && String(e.message).includes(pkg);
}

function isUnloadable(error: unknown): boolean {
  const e = error as NodeJS.ErrnoException;
  // dlopen failures, and node-gyp-build finding neither build/ nor a prebuild.
  return e?.code === 'ERR_DLOPEN_FAILED' || /^No native build was found/.test(String(e?.message));
}

/** Tries one backend; returns its module or records why not. Other errors propagate. @internal */
export function tryBackend(name: BackendName, tried: Attempt[], load: Loader = defaultLoader): BackendModule | null {
  const row = backendRow(name)!;
  let mod: BackendModule;
  try {
    mod = load(row.package);
  } catch (error) {
    if (isMissing(error, row.package)) {
      tried.push({ backend: name, package: row.package, outcome: 'not-installed' });
      return null;
    }
    if (isUnloadable(error)) {
      tried.push({ backend: name, package: row.package, outcome: 'cannot-load', detail: String((error as Error).message).split('\n')[0] });
      return null;
    }
    throw error;
  }
  if (mod.native.caps === 0) {
    // Built from the no-<mechanism>.c stub: this OS lacks the mechanism.
    tried.push({ backend: name, package: row.package, outcome: 'unsupported-os', detail: `built without ${name} on ${process.platform}` });
    return null;
  }
  tried.push({ backend: name, package: row.package, outcome: 'loaded', detail: mod.binary.file });
  return mod;
}

function versionOf(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function describeTried(tried: Attempt[]): string {
  return tried.map((t) => `${t.backend} (${t.package}): ${t.outcome}${t.detail ? ` - ${t.detail}` : ''}`).join('; ');
}

let warned = false;

/**
 * Picks and loads the backend. Throws ERR_ASYNC_IO_UNKNOWN_BACKEND,
 * ERR_ASYNC_IO_BACKEND_UNAVAILABLE or ERR_ASYNC_IO_UNSUPPORTED_PLATFORM.
 * @internal
 */
export function selectBackend(
  env: NodeJS.ProcessEnv = process.env,
  platform: string = process.platform,
  load: Loader = defaultLoader,
): Selection {
  const tried: Attempt[] = [];
  const forced = env.ASYNC_IO_BACKEND;
  const done = (name: BackendName, mod: BackendModule, reason: string): Selection => {
    const pkg = backendRow(name)!.package;
    return { name, package: pkg, version: versionOf(pkg), module: mod, reason, tried };
  };

  if (forced !== undefined && forced !== '') {
    if (!(BACKEND_NAMES as readonly string[]).includes(forced)) {
      throw codedError(
        'ERR_ASYNC_IO_UNKNOWN_BACKEND',
        `ASYNC_IO_BACKEND=${forced} is not a backend; valid names: ${BACKEND_NAMES.join(', ')}`,
      );
    }
    const mod = tryBackend(forced as BackendName, tried, load);
    if (mod === null) {
      throw codedError(
        'ERR_ASYNC_IO_BACKEND_UNAVAILABLE',
        `ASYNC_IO_BACKEND=${forced} cannot be used here. Tried: ${describeTried(tried)}. Valid names: ${BACKEND_NAMES.join(', ')}`,
      );
    }
    return done(forced as BackendName, mod, `ASYNC_IO_BACKEND=${forced}`);
  }

  const preferred = preferredBackend(platform);
  if (preferred === null) {
    throw codedError(
      'ERR_ASYNC_IO_UNSUPPORTED_PLATFORM',
      `async-io does not support ${platform}: it needs a Unix (epoll, kqueue, event ports or poll)`,
    );
  }
  const mod = tryBackend(preferred, tried, load);
  if (mod !== null) return done(preferred, mod, `platform ${platform}`);
  if (preferred !== FALLBACK_BACKEND) {
    const fallback = tryBackend(FALLBACK_BACKEND, tried, load);
    if (fallback !== null) {
      if (!warned) {
        warned = true;
        process.emitWarning(
          `async-io: the ${preferred} backend is unavailable (${describeTried(tried.slice(0, -1))}); using poll() instead`,
          { code: 'ASYNC_IO_FALLBACK_TO_POLL', detail: 'Install the platform package or set ASYNC_IO_BACKEND.' },
        );
      }
      return done(FALLBACK_BACKEND, fallback, `fallback: ${preferred} unavailable`);
    }
  }
  throw codedError('ERR_ASYNC_IO_BACKEND_UNAVAILABLE', `no async-io backend can load. Tried: ${describeTried(tried)}`);
}
