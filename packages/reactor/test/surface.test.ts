/**
 * The published types are the documented API and nothing else: what
 * dist/index.d.ts exports, and every member of `Reactor` and `Async`, is
 * listed here. A change to the public surface changes this list and the
 * README together.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const DIST = join(__dirname, '..', 'dist');

const EXPORTS = [
  'AbortError',
  'Async',
  'AsyncOptions',
  'Attempt',
  'BACKENDS',
  'BackendInfo',
  'BackendName',
  'Events',
  'Interest',
  'PollEvent',
  'PollMode',
  'Reactor',
  'Readiness',
  'WaitOptions',
  'FdStreamOptions',
  'FdDuplexOptions',
  'FdReadStream',
  'FdWriteStream',
  'FdDuplex',
  'Watcher',
  'WatchOptions',
  'WatchMode',
  'WatchCallback',
  'WatchFlags',
  'SocketType',
  'backendInfo',
  'close',
  'configure',
  'createReadStream',
  'createWriteStream',
  'createDuplex',
  'decodeFlags',
  'pipe',
  'reactorFd',
  'read',
  'socketpair',
  'watch',
  'write',
];
const REACTOR = ['backend', 'dispatch', 'driver', 'fd', 'static get'];
const ASYNC = [
  '[Symbol.dispose]',
  'close',
  'closed',
  'constructor',
  'fd',
  'hasRef',
  'priority',
  'read',
  'readWith',
  'readable',
  'ready',
  'ref',
  'static pipe',
  'static socketpair',
  'unref',
  'writable',
  'write',
  'writeWith',
];

function published(): { checker: ts.TypeChecker; exports: Map<string, ts.Symbol> } {
  const program = ts.createProgram([join(DIST, 'index.d.ts')], { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, noEmit: true });
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(join(DIST, 'index.d.ts'))!;
  const exports = new Map(checker.getExportsOfModule(checker.getSymbolAtLocation(file)!).map((s) => [s.name, s]));
  return { checker, exports };
}

/** A class's declared members as the .d.ts shows them, without `#private`. */
function members(checker: ts.TypeChecker, symbol: ts.Symbol): string[] {
  const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  const decl = target.declarations!.find(ts.isClassDeclaration)!;
  const names: string[] = [];
  for (const m of decl.members) {
    if (m.name && ts.isPrivateIdentifier(m.name)) continue;
    const modifiers = ts.canHaveModifiers(m) ? (ts.getModifiers(m) ?? []) : [];
    if (modifiers.some((x) => x.kind === ts.SyntaxKind.PrivateKeyword)) continue;
    const name = ts.isConstructorDeclaration(m) ? 'constructor' : m.name!.getText();
    const isStatic = modifiers.some((x) => x.kind === ts.SyntaxKind.StaticKeyword);
    names.push(isStatic ? `static ${name}` : name);
  }
  return [...new Set(names)].sort();
}

describe('the published types', () => {
  const { checker, exports } = published();

  it('export exactly the documented names', () => {
    expect([...exports.keys()].sort()).toEqual([...EXPORTS].sort());
  });

  it('give Reactor get(), backend, fd, driver and dispatch() only (its constructor is private)', () => {
    expect(members(checker, exports.get('Reactor')!)).toEqual([...REACTOR].sort());
  });

  it('give Async its documented members only', () => {
    expect(members(checker, exports.get('Async')!)).toEqual([...ASYNC].sort());
  });

  it('carry no internal declaration in any .d.ts of dist/', () => {
    const internals = [
      /@internal|\bkOn[A-Z]\w*|\bkIsStale\b|\bReactorCore\b|\breactorCore\b|\bbackendModule\b|\bselectBackend\b|\btryBackend\b/,
      /^\s*(?:readonly\s+)?(?:poller|byFd|key)\??\s*:/m,
      /^\s*(?:newKey|attach|detach|retain|release|own|ownedPair|register|deregister|modify)\s*\(/m,
    ];
    for (const f of readdirSync(DIST).filter((n) => /\.d\.m?ts$/.test(n))) {
      const text = readFileSync(join(DIST, f), 'utf8');
      for (const re of internals) expect(re.exec(text)?.[0], `dist/${f}`).toBeUndefined();
    }
  });
});
