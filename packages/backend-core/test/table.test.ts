import { describe, expect, it } from 'vitest';
import {
  BACKEND_NAMES,
  BACKENDS,
  Events,
  interestBits,
  modeNumber,
  preferredBackend,
  systemError,
  timeoutArg,
} from '../lib/internal.js';

describe('the backend table', () => {
  it('names four backends, each with its own package', () => {
    expect(BACKEND_NAMES).toEqual(['epoll', 'kqueue', 'event-ports', 'poll']);
    expect(new Set(BACKENDS.map((b) => b.package)).size).toBe(4);
  });

  it('prefers epoll on Linux, kqueue on macOS/BSD, event ports on illumos, poll elsewhere', () => {
    expect(preferredBackend('linux')).toBe('epoll');
    expect(preferredBackend('android')).toBe('epoll');
    for (const os of ['darwin', 'freebsd', 'openbsd', 'netbsd']) expect(preferredBackend(os)).toBe('kqueue');
    expect(preferredBackend('sunos')).toBe('event-ports');
    expect(preferredBackend('aix')).toBe('poll');
    expect(preferredBackend('win32')).toBeNull();
  });

  it('gives poll no fd and the others one', () => {
    expect(BACKENDS.filter((b) => !b.hasFd).map((b) => b.name)).toEqual(['poll']);
  });
});

describe('argument conversion', () => {
  it('maps interest objects to bits and rejects non-booleans', () => {
    expect(interestBits({})).toBe(0);
    expect(interestBits({ readable: true, writable: false, priority: true })).toBe(0b101);
    expect(() => interestBits({ readable: 1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => interestBits('r')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
  });

  it("maps modes to the addon's numbers (its constants.modes) and defaults to oneshot", () => {
    const modes = { oneshot: 10, level: 11, edge: 12, 'edge-oneshot': 13 };
    expect([undefined, 'oneshot', 'level', 'edge', 'edge-oneshot'].map((m) => modeNumber(modes, m))).toEqual([10, 10, 11, 12, 13]);
    expect(() => modeNumber(modes, 'Level')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('maps timeouts: null/undefined/Infinity mean none, fractions pass, NaN and negatives throw', () => {
    expect([null, undefined, Infinity, 0, 1.5].map((t) => timeoutArg(t))).toEqual([-1, -1, -1, 0, 1.5]);
    expect(() => timeoutArg(NaN)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
    expect(() => timeoutArg(-1)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('builds SystemError-shaped errors', () => {
    const e = systemError('EEXIST', -17, 'epoll_ctl', 'file already registered');
    expect(e).toMatchObject({ code: 'EEXIST', errno: -17, syscall: 'epoll_ctl' });
    expect(e.message).toBe('EEXIST: file already registered, epoll_ctl');
  });

  it('Events starts empty with the asked capacity', () => {
    const events = new Events(3);
    expect(events.capacity).toBe(3);
    expect(events.length).toBe(0);
    expect([...events]).toEqual([]);
    expect(new Events().capacity).toBe(1024);
  });
});
