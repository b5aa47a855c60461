/**
 * The published types are the documented API and nothing else, in every
 * published package (backend-core, each backend of the table, this facade):
 * what its dist/index.d.ts exports, with every member of each exported class,
 * interface and class-valued constant, is pinned here, and each of those
 * names is documented in the package's README or the root README. A change
 * to a public surface changes this list and the docs together. What only
 * sibling packages use is behind each package's `/internal` subpath.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { BACKENDS } from '@async-io/backend-core';

const PACKAGES = join(__dirname, '..', '..');
const ROOT = join(PACKAGES, '..');
const dirOf = (pkg: string): string => pkg.replace(/^@async-io\//, '');

// (and `[Symbol.dispose]`, from `Disposable`, which the interface extends)
const POLLER = ['add', 'backend', 'close', 'closed', 'delete', 'fd', 'modify', 'notify', 'share', 'supportsEdge', 'supportsLevel', 'supportsPriority', 'sweep', 'wait'];
const POLLER_CLASS = ['new', 'fromShared', 'prototype'];
const EVENTS = ['[Symbol.iterator]', 'at', 'capacity', 'clear', 'constructor', 'flagsAt', 'keyAt', 'length'];
const INTEREST = ['priority', 'readable', 'writable'];
const POLL_EVENT = ['error', 'gone', 'hangup', 'key', 'priority', 'readable', 'writable'];
const SHARED_POLLER = ['backend', 'id', 'kind'];

/** Every backend package of the table: the same `Poller` API. */
const BACKEND_SURFACE: Record<string, string[]> = {
  BackendName: [],
  Events: EVENTS,
  Interest: INTEREST,
  PollEvent: POLL_EVENT,
  PollMode: [],
  Poller: [...POLLER, ...POLLER_CLASS],
  SharedPoller: SHARED_POLLER,
  close: [],
  pipe: [],
  read: [],
  setNonblocking: [],
  socketpair: [],
  write: [],
};

const SURFACES: Record<string, Record<string, string[]>> = {
  'backend-core': {
    BACKENDS: [],
    BACKEND_NAMES: [],
    BackendInfoRow: [],
    BackendName: [],
    BackendPackage: [],
    DRIVER_NAMES: [],
    DriverName: [],
    Events: EVENTS,
    FALLBACK_BACKEND: [],
    FdHelpers: ['close', 'pipe', 'read', 'setNonblocking', 'socketpair', 'write'],
    Interest: INTEREST,
    PollEvent: POLL_EVENT,
    PollMode: [],
    Poller: POLLER,
    PollerClass: POLLER_CLASS,
    SharedPoller: SHARED_POLLER,
    SocketType: [],
    backendRow: [],
    preferredBackend: [],
    servesPlatform: [],
  },
  ...Object.fromEntries(BACKENDS.map((b) => [dirOf(b.package), BACKEND_SURFACE])),
  reactor: {
    AbortError: ['code', 'constructor', 'name'],
    Async: ['[Symbol.dispose]', 'close', 'closed', 'constructor', 'fd', 'hasRef', 'priority', 'read', 'readWith', 'readable', 'ready', 'ref', 'static pipe', 'static socketpair', 'unref', 'writable', 'write', 'writeWith'],
    AsyncOptions: ['ownsFd'],
    Attempt: ['backend', 'detail', 'outcome', 'package'],
    BACKENDS: [],
    BackendInfo: ['capabilities', 'driver', 'driverReason', 'fd', 'file', 'name', 'package', 'prebuilt', 'reason', 'tried', 'version'],
    BackendName: [],
    Events: EVENTS,
    FdDuplex: [],
    FdDuplexOptions: ['allowHalfOpen', 'readableHighWaterMark', 'writableHighWaterMark'],
    FdReadStream: [],
    FdStreamOptions: ['encoding', 'highWaterMark', 'ownsFd', 'packet', 'readSize', 'signal'],
    FdWriteStream: [],
    Interest: INTEREST,
    PollEvent: POLL_EVENT,
    PollMode: [],
    Reactor: ['backend', 'dispatch', 'driver', 'fd', 'static get'],
    Readiness: ['error', 'hangup', 'priority', 'readable', 'writable'],
    SocketType: [],
    WaitOptions: ['signal'],
    WatchCallback: [],
    WatchFlags: [],
    WatchMode: [],
    WatchOptions: ['mode', 'onError', 'ownsFd'],
    Watcher: ['active', 'close', 'closed', 'fd', 'hasRef', 'mode', 'ref', 'start', 'stop', 'unref'],
    backendInfo: [],
    close: [],
    configure: [],
    createDuplex: [],
    createReadStream: [],
    createWriteStream: [],
    decodeFlags: [],
    pipe: [],
    reactorFd: [],
    read: [],
    socketpair: [],
    watch: [],
    write: [],
  },
};

interface Published {
  checker: ts.TypeChecker;
  exports: Map<string, ts.Symbol>;
  /** name -> its members as the .d.ts shows them (no #private, no `private`) */
  surface: Record<string, string[]>;
}

function published(dir: string): Published {
  const entry = join(PACKAGES, dir, 'dist', 'index.d.ts');
  const program = ts.createProgram([entry], { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, noEmit: true });
  const checker = program.getTypeChecker();
  const exports = new Map(checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)!)!).map((s) => [s.name, s]));
  const surface: Record<string, string[]> = {};
  for (const [name, symbol] of exports) surface[name] = membersOf(checker, symbol);
  return { checker, exports, surface };
}

function memberName(m: ts.ClassElement | ts.TypeElement): string | null {
  if (m.name && ts.isPrivateIdentifier(m.name)) return null;
  const modifiers = ts.canHaveModifiers(m) ? (ts.getModifiers(m) ?? []) : [];
  if (modifiers.some((x) => x.kind === ts.SyntaxKind.PrivateKeyword)) return null;
  if (ts.isConstructorDeclaration(m)) return 'constructor';
  if (ts.isConstructSignatureDeclaration(m)) return 'new';
  if (ts.isCallSignatureDeclaration(m) || ts.isIndexSignatureDeclaration(m)) return '()';
  const name = m.name!.getText();
  return modifiers.some((x) => x.kind === ts.SyntaxKind.StaticKeyword) ? `static ${name}` : name;
}

/**
 * The members of a class or interface as declared, or of the interface a
 * constant's type names (a backend's `Poller` is a `PollerClass`); [] for
 * functions, type aliases and plain values.
 */
function membersOf(checker: ts.TypeChecker, symbol: ts.Symbol): string[] {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const names = new Set<string>();
  for (const decl of target.declarations ?? []) {
    let owner: ts.ClassDeclaration | ts.InterfaceDeclaration | undefined;
    if (ts.isClassDeclaration(decl) || ts.isInterfaceDeclaration(decl)) owner = decl;
    else if (ts.isTypeAliasDeclaration(decl)) owner = checker.getTypeAtLocation(decl).getSymbol()?.declarations?.find(ts.isInterfaceDeclaration);
    else if (ts.isVariableDeclaration(decl)) {
      const type = checker.getTypeAtLocation(decl);
      if (type.getConstructSignatures().length > 0) owner = type.getSymbol()?.declarations?.find(ts.isInterfaceDeclaration);
    }
    for (const m of owner?.members ?? []) {
      const n = memberName(m as ts.ClassElement | ts.TypeElement);
      if (n !== null) names.add(n);
    }
  }
  return [...names].sort();
}

/** Every word inside inline code and code blocks of the package's README and the root README. */
function documentedWords(dir: string): Set<string> {
  const text = [join(PACKAGES, dir, 'README.md'), join(ROOT, 'README.md')]
    .filter(existsSync)
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
  const code = [...text.matchAll(/```[^\n]*\n([\s\S]*?)```|`([^`\n]+)`/g)].map((m) => m[1] ?? m[2]).join('\n');
  return new Set(code.match(/[A-Za-z_$][\w$]*/g) ?? []);
}

const sorted = (o: Record<string, string[]>): Record<string, string[]> =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]));

describe.each(Object.keys(SURFACES))('the published types of @async-io/%s', (dir) => {
  const { checker, exports, surface } = published(dir);

  it('export exactly the pinned names, each with exactly the pinned members', () => {
    if (process.env.SURFACE_DUMP) console.log(JSON.stringify({ [dir]: surface }));
    expect(sorted(surface)).toEqual(sorted(SURFACES[dir]!));
  });

  it('document every exported name and member in the package README or the root README', () => {
    const words = documentedWords(dir);
    const missing: string[] = [];
    for (const [name, members] of Object.entries(surface)) {
      if (!words.has(name)) missing.push(name);
      for (const m of members) {
        const word = /(\w+)\]?$/.exec(m)![1]!; // 'static get' -> get, '[Symbol.dispose]' -> dispose
        if (m !== 'constructor' && m !== 'new' && m !== '()' && m !== 'prototype' && !words.has(word)) missing.push(`${name}.${m}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('carry no internal declaration in what they export (for the facade: in any .d.ts of dist/)', () => {
    // Everywhere: no internal name. In the facade's own files also no internal member (its
    // ReactorCore's); Poller's own `modify` and PollEvent's `key` are public.
    const everywhere = [
      /@internal|\bkOn[A-Z]\w*|\bkIsStale\b|\bReactorCore\b|\breactorCore\b|\bbackendModule\b|\bselectBackend\b|\btryBackend\b/,
      /\b_fill\b|\beventsBuffer\b|\bNativeAddon\b|\bNativeHandle\b|\bReactorHandle\b|\bloadAddon\b|\bdefineBackend\b|\bfromAddon\b|\/internal'/,
    ];
    const facadeFiles = [
      /^\s*(?:readonly\s+)?(?:poller|byFd|key|native|binary)\??\s*:/m,
      /^\s*(?:newKey|attach|detach|retain|release|own|ownedPair|register|deregister|modify|adopt)\s*\(/m,
    ];
    for (const [name, symbol] of exports) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      for (const d of target.declarations ?? []) for (const re of everywhere) expect(re.exec(d.getText())?.[0], `${dir}: ${name}`).toBeUndefined();
    }
    if (dir === 'reactor') {
      const dist = join(PACKAGES, dir, 'dist');
      for (const f of readdirSync(dist).filter((n) => /\.d\.m?ts$/.test(n))) {
        const text = readFileSync(join(dist, f), 'utf8');
        for (const re of [...everywhere, ...facadeFiles]) expect(re.exec(text)?.[0], `${dir}/dist/${f}`).toBeUndefined();
      }
    }
  });
});
