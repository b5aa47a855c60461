// A vitest reporter for scripts/test-summary.mjs: one JSON report per package
// and project in .test-results/ (`reactor-poll.json`, `reactor-kqueue-emulated.json`,
// ...), in the shape of vitest's own JSON reporter (the fields the summary
// reads), so that the summary keeps one line per suite and backend now that
// one vitest run holds every backend's project.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export default class ProjectReports {
  /** @param {{ dir: string, label: string }} options */
  constructor(options) {
    this.dir = options.dir;
    this.label = options.label;
  }

  /** @param {ReadonlyArray<import('vitest/node').TestModule>} modules */
  onTestRunEnd(modules, unhandledErrors) {
    const groups = new Map();
    for (const m of modules) {
      const project = m.project.name;
      if (!groups.has(project)) groups.set(project, []);
      groups.get(project).push(m);
    }
    if (groups.size === 0) groups.set('', []);
    mkdirSync(this.dir, { recursive: true });
    for (const [project, list] of groups) {
      const testResults = list.map((m) => {
        const tests = [...m.children.allTests()];
        return {
          name: m.moduleId,
          status: m.state() === 'failed' ? 'failed' : 'passed',
          assertionResults: tests.map((t) => ({ fullName: t.fullName, status: t.result().state })),
        };
      });
      const all = testResults.flatMap((r) => r.assertionResults);
      const count = (state) => all.filter((a) => a.status === state).length;
      const report = {
        numTotalTests: all.length,
        numPassedTests: count('passed'),
        // An error outside any test (an unhandled rejection in a fixture) fails the run: count it.
        numFailedTests: count('failed') + (project === [...groups.keys()][0] ? unhandledErrors.length : 0),
        numPendingTests: count('skipped') + count('pending'),
        testResults,
      };
      const name = [this.label, project.replace(/[^\w-]+/g, '-').replace(/-+$/, '')].filter(Boolean).join('-');
      writeFileSync(join(this.dir, `${name}.json`), `${JSON.stringify(report, null, 1)}\n`);
    }
  }
}
