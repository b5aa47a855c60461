/**
 * The seam between TypeScript and C, checked against a real addon: what
 * the addon exports is exactly what backend-core's `NativeAddon` interface
 * declares (each method a function, each value of the declared type), and its
 * `constants` object has exactly the groups and names of `NativeConstants`,
 * each a uint32. The interface is read from backend-core's lib/native.ts with
 * the TypeScript compiler, so neither side can drift alone.
 */
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const NATIVE_TS = join(__dirname, '..', '..', 'backend-core', 'lib', 'native.ts');

/** What a declared member is: 'function', 'number', 'string', or the nested shape of an object. */
type Shape = 'function' | 'number' | 'string' | 'object' | { [name: string]: Shape };

function declaredShapes(): { addon: Record<string, Shape>; constants: Record<string, Shape> } {
  const program = ts.createProgram([NATIVE_TS], { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, noEmit: true, strict: true });
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(NATIVE_TS)!;
  const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(file)!);
  const shapeOf = (type: ts.Type, depth: number): Shape => {
    if (type.getCallSignatures().length > 0) return 'function';
    if (type.flags & ts.TypeFlags.NumberLike) return 'number';
    if (type.flags & ts.TypeFlags.StringLike || (type.isUnion() && type.types.every((t) => t.flags & ts.TypeFlags.StringLike))) return 'string';
    if (depth > 1) return 'object';
    const out: Record<string, Shape> = {};
    for (const p of checker.getPropertiesOfType(type)) out[p.name] = shapeOf(checker.getTypeOfSymbol(p), depth + 1);
    return out;
  };
  const members = (name: string): Record<string, Shape> => {
    const symbol = exports.find((s) => s.name === name)!;
    return shapeOf(checker.getDeclaredTypeOfSymbol(symbol), 0) as Record<string, Shape>;
  };
  return { addon: members('NativeAddon'), constants: members('NativeConstants') };
}

function actualShape(value: unknown): Shape {
  if (typeof value === 'function') return 'function';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return 'string';
  return 'object';
}

/**
 * @example describeSeam({ modulePath: require.resolve('@async-io/linux-epoll/internal') });
 */
export function describeSeam(options: { modulePath: string; label?: string }): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { native } = require(options.modulePath) as { native: Record<string, unknown> };
  describe(`the TypeScript/C seam: ${options.label ?? String(native.name)}`, () => {
    const declared = declaredShapes();

    it('the addon exports exactly what NativeAddon declares, each of the declared kind', () => {
      expect(Object.keys(native).sort()).toEqual(Object.keys(declared.addon).sort());
      const actual = Object.fromEntries(Object.keys(declared.addon).map((k) => [k, actualShape(native[k])]));
      const expected = Object.fromEntries(Object.entries(declared.addon).map(([k, v]) => [k, typeof v === 'string' ? v : 'object']));
      expect(actual).toEqual(expected);
    });

    it('its constants are exactly the groups and names of NativeConstants, each a uint32', () => {
      const constants = native.constants as Record<string, unknown>;
      const shape = (v: unknown): unknown =>
        typeof v === 'object' && v !== null ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)])) : Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffff_ffff ? 'number' : typeof v;
      const want = (s: Shape): unknown => (typeof s === 'string' ? s : Object.fromEntries(Object.entries(s).map(([k, x]) => [k, want(x)])));
      expect(shape(constants)).toEqual(want(declared.constants));
    });

    it('within a group no two names share a number, and the capability bits are single bits', () => {
      const constants = native.constants as Record<string, Record<string, number> | number>;
      for (const [group, values] of Object.entries(constants)) {
        if (typeof values !== 'object') continue;
        const numbers = Object.values(values);
        expect(new Set(numbers).size, group).toBe(numbers.length);
      }
      for (const bits of [constants.caps, constants.flags] as Record<string, number>[]) {
        for (const [name, bit] of Object.entries(bits)) expect(bit > 0 && (bit & (bit - 1)) === 0, name).toBe(true);
      }
      expect((native.caps as number) & ~Object.values(constants.caps as Record<string, number>).reduce((a, b) => a | b, 0)).toBe(0);
    });
  });
}
