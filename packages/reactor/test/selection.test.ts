import { describe, expect, it, vi } from 'vitest';
import type { BackendModule } from '@async-io/backend-core/internal';
import { selectBackend } from '../lib/select.js';

function fakeModule(name: string, caps = 7): BackendModule {
  return { native: { name, caps }, binary: { file: `/x/${name}.node`, prebuilt: true } } as unknown as BackendModule;
}

function notFound(pkg: string): Error {
  return Object.assign(new Error(`Cannot find module '${pkg}'`), { code: 'MODULE_NOT_FOUND' });
}

/** A loader that serves the named backends and reports the rest missing. */
function loader(available: Record<string, BackendModule | Error>) {
  return (pkg: string): BackendModule => {
    const hit = available[pkg];
    if (hit === undefined) throw notFound(pkg);
    if (hit instanceof Error) throw hit;
    return hit;
  };
}

const EPOLL = '@async-io/linux-epoll';
const KQUEUE = '@async-io/bsd-kqueue';
const PORTS = '@async-io/solaris-ports';
const POLL = '@async-io/poll-fallback';

describe('backend selection', () => {
  it('picks the platform backend from the table', () => {
    const all = loader({
      [EPOLL]: fakeModule('epoll'),
      [KQUEUE]: fakeModule('kqueue'),
      [PORTS]: fakeModule('event-ports'),
      [POLL]: fakeModule('poll'),
    });
    expect(selectBackend({}, 'linux', all).name).toBe('epoll');
    expect(selectBackend({}, 'darwin', all).name).toBe('kqueue');
    expect(selectBackend({}, 'freebsd', all).name).toBe('kqueue');
    expect(selectBackend({}, 'sunos', all).name).toBe('event-ports');
    expect(selectBackend({}, 'aix', all).name).toBe('poll');
    const s = selectBackend({}, 'linux', all);
    expect(s.reason).toBe('platform linux');
    expect(s.tried).toEqual([{ backend: 'epoll', package: EPOLL, outcome: 'loaded', detail: '/x/epoll.node' }]);
  });

  it('honours ASYNC_IO_BACKEND and never falls back from it', () => {
    const some = loader({ [EPOLL]: fakeModule('epoll'), [POLL]: fakeModule('poll') });
    expect(selectBackend({ ASYNC_IO_BACKEND: 'poll' }, 'linux', some).name).toBe('poll');
    expect(() => selectBackend({ ASYNC_IO_BACKEND: 'kqueue' }, 'linux', some)).toThrow(
      expect.objectContaining({
        code: 'ERR_ASYNC_IO_BACKEND_UNAVAILABLE',
        message: expect.stringMatching(/kqueue \(@async-io\/bsd-kqueue\): not-installed.*Valid names: epoll, kqueue, event-ports, poll/),
      }),
    );
  });

  it('rejects an unknown ASYNC_IO_BACKEND, listing the valid names', () => {
    expect(() => selectBackend({ ASYNC_IO_BACKEND: 'iouring' }, 'linux', loader({}))).toThrow(
      expect.objectContaining({
        code: 'ERR_ASYNC_IO_UNKNOWN_BACKEND',
        message: expect.stringContaining('valid names: epoll, kqueue, event-ports, poll'),
      }),
    );
  });

  it('refuses Windows with a clear error', () => {
    expect(() => selectBackend({}, 'win32', loader({ [POLL]: fakeModule('poll') }))).toThrow(
      expect.objectContaining({ code: 'ERR_ASYNC_IO_UNSUPPORTED_PLATFORM' }),
    );
  });

  it('falls back to poll when the platform backend is missing, warning once with a code', () => {
    // First fallback in this process (each test file runs in its own).
    const fresh = selectBackend;
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const pollOnly = loader({ [POLL]: fakeModule('poll') });
      const s = fresh({}, 'linux', pollOnly);
      expect(s.name).toBe('poll');
      expect(s.reason).toBe('fallback: epoll unavailable');
      expect(s.tried.map((t: { outcome: string }) => t.outcome)).toEqual(['not-installed', 'loaded']);
      fresh({}, 'linux', pollOnly);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![1]).toMatchObject({ code: 'ASYNC_IO_FALLBACK_TO_POLL' });
    } finally {
      warn.mockRestore();
    }
  });

  it('falls back when the binary cannot load, or is a stub for another OS', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const broken = Object.assign(new Error('bad ELF'), { code: 'ERR_DLOPEN_FAILED' });
      expect(selectBackend({}, 'linux', loader({ [EPOLL]: broken, [POLL]: fakeModule('poll') })).tried[0]).toMatchObject({
        outcome: 'cannot-load',
      });
      const noBuild = new Error('No native build was found for platform=linux arch=x64');
      expect(selectBackend({}, 'linux', loader({ [EPOLL]: noBuild, [POLL]: fakeModule('poll') })).name).toBe('poll');
      expect(selectBackend({}, 'darwin', loader({ [KQUEUE]: fakeModule('kqueue', 0), [POLL]: fakeModule('poll') })).tried[0]).toMatchObject({
        outcome: 'unsupported-os',
      });
    } finally {
      warn.mockRestore();
    }
  });

  it('propagates any other load error instead of falling back', () => {
    const bug = new SyntaxError('Unexpected token');
    expect(() => selectBackend({}, 'linux', loader({ [EPOLL]: bug, [POLL]: fakeModule('poll') }))).toThrow(bug);
    const otherMissing = Object.assign(new Error("Cannot find module 'left-pad'"), { code: 'MODULE_NOT_FOUND' });
    expect(() => selectBackend({}, 'linux', loader({ [EPOLL]: otherMissing, [POLL]: fakeModule('poll') }))).toThrow(otherMissing);
  });

  it('says what it tried when nothing loads', () => {
    expect(() => selectBackend({}, 'linux', loader({}))).toThrow(
      expect.objectContaining({ code: 'ERR_ASYNC_IO_BACKEND_UNAVAILABLE', message: expect.stringMatching(/epoll.*not-installed.*poll.*not-installed/) }),
    );
  });
});
