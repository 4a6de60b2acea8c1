import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import {
  buildReport,
  exitReason,
  renderJUnit,
  renderSummary,
  reportOutputs,
  writeReport,
} from '../src/report/index.js';
import type { BatchRecord, HistoryEntry, RunData, WorkerRecord } from '../src/types.js';

const T0 = 1_700_000_000_000;
const HOSTILE = `spec/<&"'>|\`x\`:;#.test.ts`;
const UNICODE = 'spec/ünïcødé 🚀 測試.test.ts';

function run(t: string, w: string, b: string, o: HistoryEntry['o'], e: number, extra: Partial<HistoryEntry> = {}): HistoryEntry {
  return { t, w, b, i: false, o, d: 100, m: '', s: T0 + e - 100, e: T0 + e, ...extra };
}

function batch(id: string, worker: string, start: number, end: number | null, state: BatchRecord['state'], tests: string[], isolated = false): BatchRecord {
  return { id, worker, startMs: T0 + start, endMs: end === null ? null : T0 + end, isolated, firstOnRunner: false, tests, state };
}

const workers: WorkerRecord[] = [
  { id: 'w1', state: 'alive', batches: 3, tests: 6, busyMs: 6000, lostBatches: 0 },
  { id: 'w2', state: 'dead', batches: 1, tests: 3, busyMs: 2000, lostBatches: 1 },
  { id: 'w3', state: 'cancelled', batches: 1, tests: 1, busyMs: 1000, lostBatches: 1 },
  { id: 'w4', state: 'finished', batches: 2, tests: 2, busyMs: 3000, lostBatches: 0 },
];

/** An aborted run with one test of every kind. History is deliberately out of time order. */
function sample(): RunData {
  return {
    queue: 'tests',
    run: '123-1',
    state: 'aborted',
    abortReason: 'max-failures reached (1)',
    seededAtMs: T0,
    completedAtMs: T0 + 10_000,
    nowMs: T0 + 12_000,
    tests: [
      { id: 'spec/pass.test.ts', status: 'passed' },
      { id: 'spec/fail.test.ts', status: 'failed' },
      { id: 'spec/flaky.test.ts', status: 'flaky' },
      { id: 'spec/lost.test.ts', status: 'lost' },
      { id: 'spec/skip.test.ts', status: 'skipped' },
      { id: 'spec/never.test.ts', status: null },
      { id: HOSTILE, status: 'passed' },
      { id: UNICODE, status: 'passed' },
    ],
    history: [
      run('spec/fail.test.ts', 'w1', 'b5', 'failed', 5000, { i: true, d: 300, m: 'second failure\n  at line 2' }),
      run('spec/pass.test.ts', 'w1', 'b1', 'passed', 1000, { d: 1200 }),
      run('spec/fail.test.ts', 'w1', 'b1', 'failed', 1000, { d: 200, m: 'first failure' }),
      run('spec/flaky.test.ts', 'w1', 'b1', 'failed', 1000, { m: 'boom ```</details>' }),
      run('spec/flaky.test.ts', 'w4', 'b6', 'passed', 6000, { i: true, d: 150 }),
      run('spec/lost.test.ts', 'w4', 'b2', 'split', 2000),
      run('spec/lost.test.ts', 'w2', 'b3', 'lost', 4000, { i: true, d: 0 }),
      run('spec/lost.test.ts', 'w3', 'b4', 'timeout', 4500, { i: true, d: 2000 }),
      run('spec/lost.test.ts', 'w4', 'b7', 'lost', 8000, { i: true, d: 0 }),
      run('spec/skip.test.ts', 'w4', 'b2', 'skipped', 2000, { d: 0 }),
      run(HOSTILE, 'w1', 'b1', 'passed', 1000, { d: 50, m: 'out \u0000\u0007 <x>' }),
      run(UNICODE, 'w1', 'b1', 'passed', 1000, { d: 60 }),
      // A split that came after the pass and a lost run: neither sets the duration.
      run('spec/pass.test.ts', 'w2', 'b3', 'lost', 4000, { d: 999 }),
    ],
    workers,
    batches: [
      batch('b1', 'w1', 0, 1000, 'done', ['spec/pass.test.ts', 'spec/fail.test.ts', 'spec/flaky.test.ts', HOSTILE, UNICODE]),
      batch('b2', 'w4', 500, 2000, 'done', ['spec/lost.test.ts', 'spec/skip.test.ts']),
      batch('b3', 'w2', 2000, 4000, 'reclaimed', ['spec/lost.test.ts'], true),
      batch('b4', 'w3', 2500, 4500, 'released', ['spec/lost.test.ts'], true),
      batch('b5', 'w1', 4700, 5000, 'done', ['spec/fail.test.ts'], true),
      batch('b6', 'w4', 5500, 6000, 'done', ['spec/flaky.test.ts'], true),
      batch('b7', 'w4', 7000, 8000, 'done', ['spec/lost.test.ts'], true),
      batch('b8', 'w1', 9000, null, 'active', ['spec/never.test.ts'], true),
    ],
  };
}

/** A complete run where every test passed, except what `tweak` changes. */
function passing(tweak: (d: RunData) => void = () => {}): RunData {
  const d: RunData = {
    queue: 'q',
    run: 'r',
    state: 'complete',
    abortReason: '',
    seededAtMs: T0,
    completedAtMs: T0 + 500,
    nowMs: T0 + 600,
    tests: [{ id: 'a', status: 'passed' }],
    history: [run('a', 'w1', 'b1', 'passed', 400)],
    workers: [workers[0]],
    batches: [batch('b1', 'w1', 0, 400, 'done', ['a'])],
  };
  tweak(d);
  return d;
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  trimValues: false,
  htmlEntities: true,
  isArray: (name) => ['testcase', 'property'].includes(name),
});

describe('buildReport', () => {
  it('builds the version 1 report', () => {
    const report = buildReport(sample());
    expect(report.version).toBe(1);
    expect(report.queue).toBe('tests');
    expect(report.run).toBe('123-1');
    expect(report.status).toBe('incomplete');
    expect(report.durationMs).toBe(10_000);
    expect(report.counts).toEqual({ total: 8, passed: 3, failed: 1, flaky: 1, lost: 1, skipped: 1, notRun: 1 });
    expect(report.tests.map((t) => [t.id, t.status, t.durationMs])).toEqual([
      ['spec/pass.test.ts', 'passed', 1200],
      ['spec/fail.test.ts', 'failed', 300],
      ['spec/flaky.test.ts', 'flaky', 150],
      ['spec/lost.test.ts', 'lost', 0],
      ['spec/skip.test.ts', 'skipped', 0],
      ['spec/never.test.ts', 'not-run', 0],
      [HOSTILE, 'passed', 50],
      [UNICODE, 'passed', 60],
    ]);
    expect(report.workers).toEqual([
      { id: 'w1', batches: 3, tests: 6, busyMs: 6000, lostBatches: 0, state: 'finished' },
      { id: 'w2', batches: 1, tests: 3, busyMs: 2000, lostBatches: 1, state: 'dead' },
      { id: 'w3', batches: 1, tests: 1, busyMs: 1000, lostBatches: 1, state: 'cancelled' },
      { id: 'w4', batches: 2, tests: 2, busyMs: 3000, lostBatches: 0, state: 'finished' },
    ]);
  });

  it('lists runs in time order with their fields', () => {
    const report = buildReport(sample());
    const fail = report.tests[1];
    expect(fail.runs).toEqual([
      { worker: 'w1', batch: 'b1', isolated: false, outcome: 'failed', durationMs: 200, message: 'first failure' },
      { worker: 'w1', batch: 'b5', isolated: true, outcome: 'failed', durationMs: 300, message: 'second failure\n  at line 2' },
    ]);
    const lost = report.tests[3];
    expect(lost.runs.map((r) => [r.outcome, r.worker, r.batch, r.isolated])).toEqual([
      ['split', 'w4', 'b2', false],
      ['lost', 'w2', 'b3', true],
      ['timeout', 'w3', 'b4', true],
      ['lost', 'w4', 'b7', true],
    ]);
    expect(report.tests[5].runs).toEqual([]);
  });

  it('keeps array order for runs recorded in the same millisecond', () => {
    const d = passing((x) => {
      x.history = [run('a', 'w1', 'b1', 'failed', 400, { m: 'first' }), run('a', 'w1', 'b2', 'passed', 400, { d: 7 })];
      x.tests[0].status = 'flaky';
    });
    const t = buildReport(d).tests[0];
    expect(t.runs.map((r) => r.outcome)).toEqual(['failed', 'passed']);
    expect(t.durationMs).toBe(7);
  });

  it('computes the status from the run state and the counts', () => {
    expect(buildReport(passing()).status).toBe('passed');
    expect(buildReport(passing((d) => (d.tests[0].status = 'flaky'))).status).toBe('passed');
    expect(buildReport(passing((d) => (d.tests[0].status = 'failed'))).status).toBe('failed');
    expect(buildReport(passing((d) => (d.tests[0].status = 'lost'))).status).toBe('failed');
    expect(buildReport(passing((d) => (d.tests[0].status = null))).status).toBe('incomplete');
    expect(buildReport(passing((d) => (d.state = 'running'))).status).toBe('incomplete');
  });

  it('measures the wall time up to now while running, never negative', () => {
    expect(buildReport(passing((d) => ((d.state = 'running'), (d.completedAtMs = null)))).durationMs).toBe(600);
    expect(buildReport(passing((d) => ((d.completedAtMs = null), (d.nowMs = T0 - 5)))).durationMs).toBe(0);
  });
});

describe('reportOutputs', () => {
  it('keys every count and list by output name', () => {
    expect(reportOutputs(buildReport(sample()), '/tmp/r.json', '')).toEqual({
      total: '8',
      passed: '3',
      failed: '1',
      flaky: '1',
      lost: '1',
      skipped: '1',
      'not-run': '1',
      'failed-tests': 'spec/fail.test.ts',
      'flaky-tests': 'spec/flaky.test.ts',
      'lost-tests': 'spec/lost.test.ts',
      report: '/tmp/r.json',
      junit: '',
    });
  });

  it('joins several ids with newlines', () => {
    const d = passing((x) => {
      x.tests = [
        { id: 'a', status: 'failed' },
        { id: 'b', status: 'passed' },
        { id: 'c', status: 'failed' },
      ];
    });
    expect(reportOutputs(buildReport(d), 'r', 'j.xml')['failed-tests']).toBe('a\nc');
  });
});

describe('exitReason', () => {
  it('is null for a passing run', () => {
    expect(exitReason(buildReport(passing()), passing(), false)).toBeNull();
    const flaky = passing((d) => (d.tests[0].status = 'flaky'));
    expect(exitReason(buildReport(flaky), flaky, false)).toBeNull();
  });

  it('fails on flaky tests only with fail-on-flaky', () => {
    const flaky = passing((d) => (d.tests[0].status = 'flaky'));
    expect(exitReason(buildReport(flaky), flaky, true)).toBe('1 test flaky (fail-on-flaky): a');
  });

  it('names the abort, the failed and lost tests and the tests not run', () => {
    const d = sample();
    expect(exitReason(buildReport(d), d, false)).toBe(
      'run aborted: max-failures reached (1); 1 test failed, 1 lost: spec/fail.test.ts, spec/lost.test.ts; 1 test not run',
    );
  });

  it('caps the list of ids', () => {
    const d = passing((x) => {
      x.tests = Array.from({ length: 12 }, (_, i) => ({ id: `t${i}`, status: 'failed' as const }));
    });
    expect(exitReason(buildReport(d), d, false)).toBe('12 tests failed: t0, t1, t2, t3, t4, … (7 more)');
  });

  it('reports tests not run alone', () => {
    const d = passing((x) => {
      x.tests = Array.from({ length: 12 }, (_, i) => ({ id: `t${i}`, status: null }));
    });
    expect(exitReason(buildReport(d), d, false)).toBe('12 tests not run');
  });
});

describe('renderSummary', () => {
  const d = sample();
  const md = renderSummary(buildReport(d), d);

  it('has the headline, counts, wall time and abort reason', () => {
    expect(md.split('\n')[0]).toBe('## shardless: tests 123-1 — ⚠️ incomplete');
    expect(md).toContain('| total | passed | failed | flaky | lost | skipped | not run |');
    expect(md).toContain('| 8 | 3 | 1 | 1 | 1 | 1 | 1 |');
    expect(md).toContain('**Wall time:** 10.0 s · **Workers:** 4');
    expect(md).toContain('> **Run aborted:** max-failures reached (1)');
  });

  it('lists failed tests with the first line and the full message of their last failure', () => {
    expect(md).toContain('### Failed tests');
    expect(md).toContain('<details><summary><code>spec/fail.test.ts</code> — second failure (2 runs: failed → failed)</summary>');
    expect(md).toContain('<pre>\nsecond failure\n  at line 2\n</pre>');
  });

  it('lists every run of a lost test', () => {
    expect(md).toContain('### Lost tests');
    expect(md).toContain('- `spec/lost.test.ts` — 4 runs\n');
    expect(md).toContain('  1. split — worker `w4`, batch `b2`, not isolated, 100 ms\n');
    expect(md).toContain('  3. timeout — worker `w3`, batch `b4`, isolated, 2.0 s\n');
  });

  it('lists flaky and not-run tests', () => {
    expect(md).toContain('### Flaky tests');
    expect(md).toContain('- `spec/flaky.test.ts` — failed → passed: boom \\`\\`\\`\\</details\\>\n');
    expect(md).toContain('### Not run\n\n- `spec/never.test.ts`\n');
  });

  it('has the worker table and the slowest tests', () => {
    expect(md).toContain('| worker | state | batches | tests | busy | utilisation | lost batches |');
    expect(md).toContain('| `w1` | finished | 3 | 6 | 6.0 s | 60% | 0 |');
    expect(md).toContain('| `w2` | dead | 1 | 3 | 2.0 s | 20% | 1 |');
    expect(md).toContain('| `w3` | cancelled | 1 | 1 | 1.0 s | 10% | 1 |');
    expect(md).toContain('### Slowest tests');
    const slowest = md.split('### Slowest tests')[1].split('###')[0];
    expect(slowest.indexOf('spec/pass.test.ts')).toBeLessThan(slowest.indexOf('spec/fail.test.ts'));
    // Pipes and backticks in an id stay inside its cell.
    expect(slowest).toContain('| ``spec/<&"\'>\\|`x`:;#.test.ts`` | 50 ms | passed |');
  });

  it('draws a mermaid gantt of the batches', () => {
    const gantt = md.split('```mermaid\n')[1].split('```')[0];
    expect(gantt).toMatch(/^gantt\n {2}dateFormat x\n {2}axisFormat %M:%S\n/);
    expect(gantt).toContain('  section w1\n  5 tests :0, 1000\n');
    expect(gantt).toContain('  section w2\n  1 test isolated (reclaimed) :crit, 2000, 4000\n');
    expect(gantt).toContain('  1 test isolated (released) :crit, 2500, 4500\n');
    expect(gantt).toContain('  1 test isolated :active, 9000, 12000\n'); // still held: ends now
    expect(gantt.match(/^ {2}section /gm)).toHaveLength(4);
  });

  it('keeps hostile ids and worker ids from breaking mermaid', () => {
    const d2 = passing((x) => {
      x.workers = [{ ...workers[0], id: 'w:1;#x`' }];
      x.batches = [batch('b1', 'w:1;#x`', 0, 400, 'done', ['a'])];
    });
    const gantt = renderSummary(buildReport(d2), d2).split('```mermaid\n')[1].split('```')[0];
    expect(gantt).toContain('  section w_1__x_\n');
  });

  it('caps the chart at 300 bars and says how many were left out', () => {
    const d2 = passing((x) => {
      x.batches = Array.from({ length: 350 }, (_, i) => batch(`b${i}`, 'w1', i * 10, i * 10 + 5, 'done', ['a']));
      x.batches.push(batch('late', 'w1', 9999, 10_000, 'reclaimed', ['a']));
    });
    const summary = renderSummary(buildReport(d2), d2);
    const gantt = summary.split('```mermaid\n')[1].split('```')[0];
    expect(gantt.match(/^ {2}\d+ tests? /gm)).toHaveLength(300);
    expect(gantt).toContain('(reclaimed) :crit, 9999, 10000'); // trouble is never cut
    expect(summary).toContain('_…and 51 more batches not shown._');
  });

  it('stays under maxBytes on a 20k-test run, saying what it cut', () => {
    const big = largeRun(20_000);
    const report = buildReport(big);
    for (const maxBytes of [1_000_000, 60_000]) {
      const summary = renderSummary(report, big, { maxBytes });
      expect(Buffer.byteLength(summary, 'utf8')).toBeLessThanOrEqual(maxBytes);
      expect(summary).toMatch(/_…and \d+ more failed tests not shown\._/);
      expect(summary).toContain('### Workers');
      expect(summary).toContain('```mermaid\ngantt\n');
      expect(summary.match(/```/g)!.length % 2).toBe(0); // fences stay balanced
      expect(summary).toContain('_…and 5900 more not-run tests not shown._');
    }
  });

  it('still returns something valid for a tiny limit', () => {
    for (const maxBytes of [800, 300]) {
      const summary = renderSummary(buildReport(sample()), sample(), { maxBytes });
      expect(Buffer.byteLength(summary, 'utf8')).toBeLessThanOrEqual(maxBytes);
      expect(summary).toMatch(/Left out to fit the summary size limit: .*batches|summary truncated/);
    }
  });
});

describe('renderJUnit', () => {
  const report = buildReport(sample());
  const xml = renderJUnit(report);
  const doc = parser.parse(xml);
  const suites = doc.testsuites;
  const suite = suites.testsuite;
  const cases: any[] = suite.testcase;
  const byId = (id: string) => cases.find((c) => c.name === id);
  const props = (c: any) => Object.fromEntries(c.properties.property.map((p: any) => [p.name, p.value]));

  it('is valid XML', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
  });

  it('has counts equal to the report counts', () => {
    const c = report.counts;
    for (const node of [suites, suite]) {
      expect(Number(node.tests)).toBe(c.total);
      expect(Number(node.failures)).toBe(c.failed);
      expect(Number(node.errors)).toBe(c.lost);
      expect(Number(node.skipped)).toBe(c.skipped + c.notRun);
      expect(node.time).toBe('10.000');
    }
    expect(suites.name).toBe('shardless');
    expect(suite.name).toBe('shardless tests');
    expect(cases.filter((x) => x.failure).length).toBe(c.failed);
    expect(cases.filter((x) => x.error).length).toBe(c.lost);
    expect(cases.filter((x) => x.skipped !== undefined).length).toBe(c.skipped + c.notRun);
  });

  it('has one testcase per test with ids preserved exactly', () => {
    expect(cases.map((c) => c.name)).toEqual(report.tests.map((t) => t.id));
    expect(cases.map((c) => c.classname)).toEqual(report.tests.map((t) => t.id));
    expect(byId(HOSTILE)).toBeDefined();
    expect(byId(UNICODE)).toBeDefined();
  });

  it('carries each final status', () => {
    const fail = byId('spec/fail.test.ts');
    expect(fail.failure.message).toBe('second failure');
    expect(fail.failure['#text']).toBe('second failure\n  at line 2');
    expect(fail.time).toBe('0.300');
    expect(byId('spec/lost.test.ts').error).toEqual({ type: 'lost', message: 'lost after 3 runs without a result' });
    expect(byId('spec/never.test.ts').skipped).toEqual({ message: 'not run' });
    expect(byId('spec/skip.test.ts').skipped).toBe('');
    const flaky = byId('spec/flaky.test.ts');
    expect(flaky.failure).toBeUndefined();
    expect(props(flaky)).toEqual({ 'shardless.status': 'flaky', 'shardless.runs': '2' });
    expect(flaky['system-out']).toContain('run 1: failed on worker w1, batch b1, 0.100 s\n  boom ```</details>');
    expect(flaky['system-out']).toContain('run 2: passed on worker w4, batch b6 (isolated), 0.150 s');
  });

  it('gives every testcase its status and runs', () => {
    for (const t of report.tests) {
      const c = byId(t.id);
      expect(props(c)).toEqual({ 'shardless.status': t.status, 'shardless.runs': String(t.runs.length) });
      if (t.runs.length > 0) expect(c['system-out'].match(/^run \d+:/gm)).toHaveLength(t.runs.length);
    }
  });

  it('strips characters XML 1.0 forbids', () => {
    expect(xml).not.toMatch(/[\u0000-\u0008]/);
    expect(byId(HOSTILE)['system-out']).toContain('out  <x>');
  });

  it('drops control characters and lone surrogates, keeps line breaks and emoji', () => {
    const id = 'a\u0001b\uD800c\uDC00d🚀';
    const d = passing((x) => {
      x.tests[0] = { id, status: 'failed' };
      x.history = [run(id, 'w1', 'b1', 'failed', 400, { m: '\n\tline one\r\nline two\uFFFF' })];
    });
    const out = renderJUnit(buildReport(d));
    expect(XMLValidator.validate(out)).toBe(true);
    const c = parser.parse(out).testsuites.testsuite.testcase[0];
    expect(c.name).toBe('abcd🚀');
    expect(c.failure.message).toBe('line one');
    expect(c.failure['#text']).toBe('\n\tline one\r\nline two');
  });
});

describe('writeReport', () => {
  it('writes the JSON report and the JUnit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shardless-report-'));
    try {
      const report = buildReport(sample());
      await writeReport(report, join(dir, 'a/report.json'), join(dir, 'b/junit.xml'));
      expect(JSON.parse(await readFile(join(dir, 'a/report.json'), 'utf8'))).toEqual(report);
      expect(await readFile(join(dir, 'b/junit.xml'), 'utf8')).toBe(renderJUnit(report));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Half failed with long messages, a tenth lost, 30% not run, many batches. */
function largeRun(n: number): RunData {
  const tests: RunData['tests'] = [];
  const history: HistoryEntry[] = [];
  const batches: BatchRecord[] = [];
  for (let i = 0; i < n; i++) {
    const id = `spec/deep/dir/test-${i}-ünï.test.ts`;
    const status = i % 2 === 0 ? 'failed' : i % 10 === 1 ? 'lost' : i % 10 === 3 ? 'passed' : null;
    tests.push({ id, status });
    if (status === null) continue;
    const w = `w${i % 8}`;
    const o = status === 'lost' ? 'lost' : status;
    history.push(run(id, w, `b${i}`, o, i, { d: i, m: `Error ${i}\n${'    at frame (file.ts:1:1)\n'.repeat(20)}` }));
    if (i % 4 === 0) batches.push(batch(`b${i}`, w, i, i + 50, status === 'lost' ? 'reclaimed' : 'done', [id]));
  }
  return {
    queue: 'tests',
    run: 'big',
    state: 'complete',
    abortReason: '',
    seededAtMs: T0,
    completedAtMs: T0 + n + 100,
    nowMs: T0 + n + 100,
    tests,
    history,
    workers: Array.from({ length: 8 }, (_, i) => ({ ...workers[0], id: `w${i}` })),
    batches,
  };
}
