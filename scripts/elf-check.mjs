// What a Linux prebuild asks of the system that loads it, read with readelf
// (binutils; target-independent, so it reads the arm builds too):
//   - needed: its DT_NEEDED libraries;
//   - maxGlibc: the highest GLIBC_x.y symbol version it requires (null for musl);
//   - glibcSymbols: each required GLIBC version with the symbols bound to it.
// Used by scripts/cross-prebuild.mjs on what it builds and by test-e2e on the
// packed tarballs: a glibc prebuild must need no more than glibc 2.17
// (CentOS 7 / RHEL 7, the oldest glibc Node's own Linux builds have supported)
// and nothing beyond libc (and libpthread, where glibc < 2.34 keeps threads).
import { execFileSync } from 'node:child_process';

/** The glibc version every Linux glibc prebuild must stay within. */
export const GLIBC_MAX = '2.17';
/** Libraries a prebuild may need: the C library (glibc or musl) and glibc's libpthread. */
export const ALLOWED_NEEDED = ['libc.so.6', 'libpthread.so.0', 'libc.so', 'libc.musl-x86_64.so.1', 'libc.musl-aarch64.so.1', 'libc.musl-armhf.so.1'];

/** Compares dotted versions numerically ('2.9' < '2.17'). */
export function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * @example elfInfo('prebuilds/linux-x64/@async-io+linux-epoll.node')
 * // { machine: 'Advanced Micro Devices X86-64', needed: ['libc.so.6', 'libpthread.so.0'], maxGlibc: '2.17', ... }
 */
export function elfInfo(file) {
  const header = execFileSync('readelf', ['-h', file], { encoding: 'utf8' });
  const machine = /Machine:\s+(.*)/.exec(header)?.[1].trim();
  const dynamic = execFileSync('readelf', ['-d', '-W', file], { encoding: 'utf8' });
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const syms = execFileSync('readelf', ['--dyn-syms', '-W', file], { encoding: 'utf8' });
  const glibcSymbols = {};
  for (const m of syms.matchAll(/\sUND\s+(\S+?)@(?:@)?GLIBC_([\d.]+)/g)) {
    (glibcSymbols[m[2]] ??= []).push(m[1]);
  }
  const versions = Object.keys(glibcSymbols).sort(compareVersions);
  return { machine, needed, maxGlibc: versions.at(-1) ?? null, glibcSymbols };
}

/** Problems with a Linux prebuild, as sentences (empty when it is fine). */
export function elfProblems(file, libc) {
  const info = elfInfo(file);
  const problems = [];
  const extra = info.needed.filter((n) => !ALLOWED_NEEDED.includes(n));
  if (extra.length) problems.push(`${file} needs ${extra.join(', ')} (only the C library is allowed)`);
  if (libc === 'glibc') {
    if (!info.needed.includes('libc.so.6')) problems.push(`${file} does not link glibc (needs ${info.needed.join(', ')})`);
    if (info.maxGlibc && compareVersions(info.maxGlibc, GLIBC_MAX) > 0) {
      const over = Object.entries(info.glibcSymbols).filter(([v]) => compareVersions(v, GLIBC_MAX) > 0);
      problems.push(`${file} needs glibc ${info.maxGlibc} > ${GLIBC_MAX}: ${over.map(([v, s]) => `${s.join(', ')}@GLIBC_${v}`).join('; ')}`);
    }
  } else if (info.maxGlibc || info.needed.includes('libc.so.6')) {
    problems.push(`${file} is tagged musl but links glibc`);
  }
  return problems;
}
