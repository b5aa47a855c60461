#!/usr/bin/env node
/**
 * `npx @async-io/reactor doctor [--json]`: what this machine can run, which
 * backend is chosen and why, and from which file. Exits 1 when no backend
 * can load.
 *
 * `doctor --selftest [--json] [--timeout <ms>]`: runs the readiness checks of
 * selftest.ts on this machine with the backend that is chosen, and prints a
 * report to paste into an issue. Exits 1 when a check failed.
 */
import { BACKENDS, type BackendName } from '@async-io/backend-core';
import { type Attempt, selectBackend, tryBackend } from './select.js';

interface BackendReport {
  backend: BackendName;
  package: string;
  installed: boolean;
  loadable: boolean;
  chosen: boolean;
  outcome: Attempt['outcome'];
  detail?: string;
}

function libc(): string {
  if (process.platform !== 'linux') return 'n/a';
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? `glibc ${header.glibcVersionRuntime}` : 'musl (or not glibc)';
}

export function doctor(): { report: Record<string, unknown>; ok: boolean } {
  const backends: BackendReport[] = BACKENDS.map((row) => {
    const tried: Attempt[] = [];
    let outcome: Attempt['outcome'];
    let detail: string | undefined;
    try {
      tryBackend(row.name, tried);
      outcome = tried[0]!.outcome;
      detail = tried[0]!.detail;
    } catch (error) {
      outcome = 'cannot-load';
      detail = String((error as Error).message).split('\n')[0];
    }
    return {
      backend: row.name,
      package: row.package,
      installed: outcome !== 'not-installed',
      loadable: outcome === 'loaded',
      chosen: false,
      outcome,
      ...(detail ? { detail } : {}),
    };
  });
  const report: Record<string, unknown> = {
    platform: process.platform,
    arch: process.arch,
    libc: libc(),
    node: process.version,
    napi: process.versions.napi,
    ASYNC_IO_BACKEND: process.env.ASYNC_IO_BACKEND ?? null,
    backends,
  };
  let ok = false;
  try {
    selectBackend(); // the real choice, with its warnings and errors
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { backendInfo } = require('./index.js') as typeof import('./index.js');
    const info = backendInfo();
    for (const b of backends) b.chosen = b.backend === info.name;
    Object.assign(report, {
      chosen: info.name,
      reason: info.reason,
      file: info.file,
      prebuilt: info.prebuilt,
      reactorFd: info.fd,
      driver: info.driver,
      driverReason: info.driverReason,
      capabilities: info.capabilities,
    });
    ok = true;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    report.error = { code: e.code, message: e.message };
  }
  return { report, ok };
}

function printHuman(report: Record<string, unknown>): void {
  const line = (k: string, v: unknown) => console.log(`${k.padEnd(18)} ${v}`);
  line('platform', `${report.platform} ${report.arch} (${report.libc})`);
  line('node', `${report.node} (N-API ${report.napi})`);
  line('ASYNC_IO_BACKEND', report.ASYNC_IO_BACKEND ?? '(not set)');
  console.log('\nbackends:');
  for (const b of report.backends as BackendReport[]) {
    const mark = b.chosen ? '*' : ' ';
    console.log(` ${mark} ${b.backend.padEnd(12)} ${b.package.padEnd(26)} installed=${b.installed ? 'yes' : 'no '} loadable=${b.loadable ? 'yes' : 'no '}  ${b.outcome}${b.detail && !b.loadable ? ` (${b.detail})` : ''}`);
  }
  console.log('');
  if (report.error) {
    const e = report.error as { code: string; message: string };
    line('error', `${e.code}: ${e.message}`);
    return;
  }
  line('chosen', `${report.chosen} (${report.reason})`);
  line('file', `${report.file} (${report.prebuilt ? 'prebuilt' : 'compiled'})`);
  line('reactor fd', report.reactorFd);
  line('driver', `${report.driver} (${report.driverReason})`);
  const caps = report.capabilities as Record<string, boolean>;
  line('capabilities', Object.entries(caps).map(([k, v]) => `${k}=${v ? 'yes' : 'no'}`).join(' '));
}

const USAGE = 'usage: async-io doctor [--json] | async-io doctor --selftest [--json] [--timeout <ms>]';

async function runSelftest(json: boolean, timeoutMs: number | undefined): Promise<number> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { selftest, formatSelftest } = require('./selftest.js') as typeof import('./selftest.js');
  try {
    selectBackend();
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    console.error(`no backend could load: ${e.code ?? ''} ${e.message}`);
    return 1;
  }
  const report = await selftest({ timeoutMs, libc: libc() });
  console.log(json ? JSON.stringify(report, null, 2) : formatSelftest(report));
  return report.ok ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const [command = 'doctor', ...rest] = argv;
  let json = false;
  let selftest = false;
  let timeoutMs: number | undefined;
  let bad = command !== 'doctor';
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--json') json = true;
    else if (a === '--selftest') selftest = true;
    else if (a === '--timeout' && /^[1-9]\d{0,6}$/.test(rest[i + 1] ?? '')) timeoutMs = Number(rest[++i]);
    else bad = true;
  }
  if (bad || (timeoutMs !== undefined && !selftest)) {
    console.error(USAGE);
    return 2;
  }
  if (selftest) return runSelftest(json, timeoutMs);
  const { report, ok } = doctor();
  if (json) console.log(JSON.stringify(report, null, 2));
  else printHuman(report);
  return ok ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
