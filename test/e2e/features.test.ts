// End-to-end: retries and flaky tests, a crashing runner, the merged JUnit, the ways of listing tests, the
// command's placeholders and the `junit` glob.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { expect, test } from 'vitest';
import { RedisServer } from '../helpers/redis-server.js';
import { FAKE_RUNNER, shq } from '../helpers/action.js';
import { Scenario, checkReport, expectCountOutputs, waitFor, useRedisServer } from './harness.js';
import { runKeys } from '../../src/queue/keys.js';

let redis: RedisServer;
useRedisServer((server) => (redis = server), { everyKeyExpires: true });

const fake = `${shq(process.execPath)} ${shq(FAKE_RUNNER)}`;

async function finish(s: Scenario, ms = 45_000) {
  const c = s.runs.find((r) => r.name === 'controller')!;
  await waitFor('the controller to exit', () => c.exit, ms, 100);
  await s.allExited(15_000);
  return c;
}

test('retries: a flaky test ends flaky (exit 0), a failing one failed after its retries; merged JUnit', async () => {
  const s = new Scenario(redis, 'flaky');
  const tests = ['r/flaky-1', 'r/fail-2', 'r/pass-3', 'r/pass-4', 'r/skip-5'];
  const junitOut = join(s.dir, 'merged.xml');
  const controller = s.controller(tests, { 'batch-size': '5', retries: '1', 'junit-output': junitOut });
  s.worker('w1');
  s.worker('w2');
  await finish(s);

  expect(controller.exit).toEqual({ code: 1, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.counts).toEqual({ total: 5, passed: 2, failed: 1, flaky: 1, lost: 0, skipped: 1, notRun: 0 });
  const outputs = controller.outputs();
  expectCountOutputs(outputs, report, s);
  expect(outputs['flaky-tests']).toBe('r/flaky-1');
  expect(outputs['failed-tests']).toBe('r/fail-2');
  expect(s.test(report, 'r/flaky-1').runs.map((r) => [r.outcome, r.isolated])).toEqual([
    ['failed', false],
    ['passed', true],
  ]);
  expect(s.test(report, 'r/fail-2').runs.map((r) => [r.outcome, r.isolated])).toEqual([
    ['failed', false],
    ['failed', true],
  ]);
  expect(s.test(report, 'r/skip-5').status).toBe('skipped');
  // SHARDLESS_ATTEMPT counts every run: the retries ran as attempt 2.
  const retried = s.events().runners.filter((r) => r.env.SHARDLESS_ISOLATED === 'true');
  expect(retried.map((r) => r.ids[0]).sort()).toEqual(['r/fail-2', 'r/flaky-1']);
  for (const r of retried) expect(r.env.SHARDLESS_ATTEMPT).toBe('2');

  // The merged JUnit: one testcase per test id, carrying its final status.
  expect(outputs.junit).toBe(junitOut);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (n) => n === 'testcase' || n === 'testsuite' }).parse(
    readFileSync(junitOut, 'utf8'),
  );
  const suites = doc.testsuites ? doc.testsuites.testsuite ?? [] : doc.testsuite ?? [];
  const cases: Record<string, unknown>[] = suites.flatMap((su: { testcase?: Record<string, unknown>[] }) => su.testcase ?? []);
  const caseId = (c: Record<string, unknown>) => tests.find((t) => t === c['@name'] || t === c['@classname'] || t === c['@file']);
  expect(cases.map(caseId).sort()).toEqual([...tests].sort());
  const byId = (id: string) => cases.find((c) => caseId(c) === id)!;
  expect(byId('r/fail-2').failure ?? byId('r/fail-2').error).toBeDefined();
  expect(byId('r/pass-3').failure ?? byId('r/pass-3').error).toBeUndefined();
  expect(byId('r/skip-5').skipped).toBeDefined();
  expect(byId('r/flaky-1').failure ?? byId('r/flaky-1').error).toBeUndefined();
});

test('fail-on-flaky: a flaky test fails the controller', async () => {
  const s = new Scenario(redis, 'failonflaky');
  const tests = ['ff/flaky-1', 'ff/pass-2'];
  const controller = s.controller(tests, { retries: '2', 'fail-on-flaky': 'true' });
  s.worker('w1');
  await finish(s);
  expect(controller.exit).toEqual({ code: 1, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.counts).toMatchObject({ passed: 1, flaky: 1 });
  expect(controller.outputs()['flaky-tests']).toBe('ff/flaky-1');
});

test('flaky without fail-on-flaky: the controller exits 0', async () => {
  const s = new Scenario(redis, 'flakyok');
  const tests = ['fo/flaky-1', 'fo/pass-2'];
  const controller = s.controller(tests, { retries: '1' });
  const w1 = s.worker('w1');
  await finish(s);
  expect(controller.exit).toEqual({ code: 0, signal: null });
  expect(w1.exit).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.status).toBe('passed');
  expect(report.counts).toMatchObject({ passed: 1, flaky: 1, failed: 0 });
});

test('a runner that crashes without JUnit: the batch is split, batch-mates pass alone, the crashing test ends failed', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'crash');
  const tests = ['x/pass-1', 'x/crash-2', 'x/pass-3', 'x/pass-4'];
  const controller = s.controller(tests, { 'batch-size': '4', 'max-attempts': '2', timings: 'false' });
  const w1 = s.worker('w1');
  await finish(s);
  expect(controller.exit).toEqual({ code: 1, signal: null });
  expect(w1.exit).toEqual({ code: 1, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  for (const id of ['x/pass-1', 'x/pass-3', 'x/pass-4']) expect(s.test(report, id).status, id).toBe('passed');
  // The tests that shared the crash's first batch got no result there and ran again, alone.
  const first = s.events().runners.find((r) => r.ids.includes('x/crash-2'))!;
  expect(first.ids).toHaveLength(4);
  for (const id of first.ids.filter((t) => t !== 'x/crash-2')) {
    const t = s.test(report, id);
    expect(t.runs.length, id).toBe(2);
    expect(t.runs[1].isolated, id).toBe(true);
  }
  // README, "Results of a batch": the batch of 4 exited non-zero without JUnit, so it was split; alone,
  // the crash's non-zero exit is its failure.
  const c = s.test(report, 'x/crash-2');
  expect(c.status).toBe('failed');
  expect(c.runs.map((r) => [r.outcome, r.isolated])).toEqual([['split', false], ['failed', true]]);
  expect(c.runs[1].message).toBe('command exited with code 3');
});

/** A working directory holding test files, for globs, tests-file and tests-command. */
function project(s: Scenario): { dir: string; files: string[] } {
  const dir = join(s.dir, 'proj');
  const files = ['spec/pass-a.test.ts', 'spec/sub/pass-b.test.ts', 'spec/sub/deeper/pass-c.test.ts', 'spec/pass-d.test.ts'];
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), '// test\n');
  }
  writeFileSync(join(dir, 'spec', 'helper.ts'), '// not a test\n');
  return { dir, files };
}

test('tests as a glob over files (relative to working-directory) mixed with a literal id', async () => {
  const s = new Scenario(redis, 'glob');
  const { dir, files } = project(s);
  const expected = [...files, 'literal/pass-lit'];
  const controller = s.controller([], { tests: 'spec/**/*.test.ts\nliteral/pass-lit', 'working-directory': dir });
  s.worker('w1', { 'working-directory': dir });
  await finish(s);
  expect(controller.exit).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, expected);
  expect(report.counts.passed).toBe(5);
  // The command ran in the working directory: it got the ids as relative paths that exist there.
  for (const r of s.events().runners) expect(r.ids.every((id) => id === 'literal/pass-lit' || files.includes(id))).toBe(true);
});

test('tests-file, with the {tests-file} placeholder in the command', async () => {
  const s = new Scenario(redis, 'testsfile');
  const tests = ['tf/pass-1', 'tf/pass two with spaces', "tf/pass-'3'", 'tf/fail-4'];
  const file = join(s.dir, 'tests.txt');
  writeFileSync(file, `${tests.join('\n')}\n`);
  const controller = s.controller([], { tests: '', 'tests-file': file, 'batch-size': '2' });
  const w1 = s.worker('w1', { command: `${fake} --junit {junit} --tests-file {tests-file}` });
  await finish(s);
  expect(controller.exit).toEqual({ code: 1, signal: null });
  expect(w1.exit).toEqual({ code: 1, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.counts).toMatchObject({ passed: 3, failed: 1 });
  expect(controller.outputs()['failed-tests']).toBe('tf/fail-4');
  for (const r of s.events().runners) {
    expect(r.env.SHARDLESS_TESTS_FILE).toBeTruthy();
    expect(r.ids.join('\n')).toBe(r.env.SHARDLESS_TESTS);
  }
});

test('tests-command, and a command without {tests}: the quoted ids are appended', async () => {
  const s = new Scenario(redis, 'testscmd');
  const tests = ['tc/pass-1', 'tc/pass 2', 'tc/pass-3'];
  const controller = s.controller([], { tests: '', 'tests-command': `printf '%s\\n' 'tc/pass-1' 'tc/pass 2' 'tc/pass-3'` });
  s.worker('w1', { command: `${fake} --junit {junit}` });
  await finish(s);
  expect(controller.exit).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.counts.passed).toBe(3);
  expect(s.events().runners.flatMap((r) => r.ids).sort()).toEqual([...tests].sort());
});

test('a tests-command that leaves a background process holding its output does not delay the run', async () => {
  const s = new Scenario(redis, 'testscmd-bg');
  const tests = ['tb/pass-1', 'tb/pass-2'];
  // The backgrounded sleep keeps the command's stdout open for 20 s after the command exits.
  const controller = s.controller([], { tests: '', 'tests-command': "echo tb/pass-1; echo tb/pass-2; (sleep 20 &)" });
  const c = redis.client();
  try {
    // Seeded well before the background process lets go of the output.
    await waitFor('the controller to seed the run', async () => (await c.hget(runKeys('local', s.queue, s.runId).meta, 'state')) === 'running', 8_000, 50);
  } finally {
    c.disconnect();
  }
  s.worker('w1');
  await finish(s);
  expect(controller.exit).toEqual({ code: 0, signal: null });
  checkReport(s.report(), s, tests);
});

test('the `junit` input: results read from a glob of files the command writes', async () => {
  const s = new Scenario(redis, 'junitglob');
  const { dir } = project(s);
  const tests = ['jg/pass-1', 'jg/fail-2', 'jg/pass-3', 'jg/pass-4', 'jg/pass-5'];
  const controller = s.controller(tests, { 'batch-size': '2', 'working-directory': dir });
  const w1 = s.worker('w1', {
    'working-directory': dir,
    command: `${fake} --junit "reports/junit-$SHARDLESS_BATCH.xml" {tests}`,
    junit: 'reports/*.xml',
  });
  await finish(s);
  expect(controller.exit).toEqual({ code: 1, signal: null });
  expect(w1.exit).toEqual({ code: 1, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.counts).toMatchObject({ passed: 4, failed: 1 });
  // Per-test results came from the files: the failing batch was not split.
  for (const t of report.tests) expect(t.runs.map((r) => r.outcome), t.id).toEqual([t.id === 'jg/fail-2' ? 'failed' : 'passed']);
});

test('timings: a second run of the same queue claims the longest tests first', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'timings');
  const tests = ['tm/pass-a', 'tm/slow1200-b', 'tm/pass-c', 'tm/slow600-d', 'tm/pass-e'];
  const run = async (n: number) => {
    const mark = s.events().lines.length;
    const c = s.controller(tests, { 'run-id': `${s.runId}-${n}`, 'batch-size': '1', 'report-output': join(s.dir, `report-${n}.json`) });
    s.worker('w1', { 'run-id': `${s.runId}-${n}` });
    await waitFor(`run ${n} to end`, () => s.runs.every((r) => !r.running()), 45_000, 100);
    expect(c.exit, `run ${n}`).toEqual({ code: 0, signal: null });
    return s.events().runners.filter((r) => r.seq >= mark).sort((x, y) => x.seq - y.seq).map((r) => r.ids[0]);
  };
  const first = await run(1);
  expect([...first].sort()).toEqual([...tests].sort());
  const second = await run(2);
  expect(second.slice(0, 2)).toEqual(['tm/slow1200-b', 'tm/slow600-d']);
  expect([...second].sort()).toEqual([...tests].sort());
});

test('batch-duration: with timings known, batches hold about batch-duration seconds of work', { timeout: 90_000 }, async () => {
  const s = new Scenario(redis, 'duration');
  const tests = Array.from({ length: 12 }, (_, i) => `bd/slow300-${String(i).padStart(2, '0')}`);
  const run = async (n: number, inputs: Record<string, string>) => {
    const mark = s.events().lines.length;
    const c = s.controller(tests, { 'run-id': `${s.runId}-${n}`, 'report-output': join(s.dir, `report-${n}.json`), ...inputs });
    s.worker('w1', { 'run-id': `${s.runId}-${n}` });
    await waitFor(`run ${n} to end`, () => s.runs.every((r) => !r.running()), 45_000, 100);
    expect(c.exit, `run ${n}`).toEqual({ code: 0, signal: null });
    return s.events().runners.filter((r) => r.seq >= mark).sort((x, y) => x.seq - y.seq).map((r) => r.ids.length);
  };
  // Run 1 records the timings (about 0.3 s a test).
  await run(1, { 'batch-size': '12' });
  // Run 2: batch-size allows 12 a batch, batch-duration 1 s allows about 3.
  const sizes = await run(2, { 'batch-size': '12', 'batch-duration': '1' });
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(12);
  expect(Math.max(...sizes), `batch sizes ${JSON.stringify(sizes)}`).toBeLessThanOrEqual(5);
  expect(sizes.length).toBeGreaterThanOrEqual(3);
  // Run 3: batch-duration auto and the workers input reach the claim script through the run's meta:
  // known costs, fitted from walls since the fake runner reports no cost of its own (share 0.7, no cut
  // under 8 start costs, which auto may stretch its cap by).
  const sizes3 = await run(3, { 'batch-size': '12', 'batch-duration': 'auto', workers: '3' });
  expect(sizes3.reduce((a, b) => a + b, 0)).toBe(12);
  const c = redis.client();
  try {
    const [workers, share, cutStarts, minStarts, slackMs, startMs, batchMs] = await c.hmget(
      runKeys('local', s.queue, `${s.runId}-3`).meta, 'workers', 'share', 'cutStarts', 'minStarts', 'slackMs', 'startMs', 'batchMs');
    expect({ workers, share, cutStarts, minStarts, batchMs }).toEqual({ workers: '3', share: '0.7', cutStarts: '8', minStarts: '1', batchMs: '60000' });
    expect(Number(slackMs)).toBe(8 * Number(startMs));
  } finally {
    c.disconnect();
  }
});

test('shell: `sh` runs the command with sh, the default with bash', async () => {
  const s = new Scenario(redis, 'shell');
  const tests = Array.from({ length: 8 }, (_, i) => `sh/pass-${i}`);
  const controller = s.controller(tests, { 'batch-size': '2' });
  // Under bash, BASH_VERSION is set; under sh (dash) it is not, and [[ ]] does not exist.
  const w1 = s.worker('w1', { shell: 'sh', command: `[ -z "$BASH_VERSION" ] || exit 7; ${fake} --junit {junit} {tests}` });
  const w2 = s.worker('w2', { command: `[[ -n "$BASH_VERSION" ]] || exit 7; ${fake} --junit {junit} {tests}` });
  await finish(s);
  expect(controller.exit).toEqual({ code: 0, signal: null });
  expect(w1.exit).toEqual({ code: 0, signal: null });
  expect(w2.exit).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.counts.passed).toBe(8);
});

test('two queues of one run are independent', async () => {
  const s = new Scenario(redis, 'queues');
  const a = ['qa/pass-1', 'qa/pass-2', 'qa/fail-3'];
  const b = ['qb/pass-1', 'qb/pass-2'];
  const ra = join(s.dir, 'a.json');
  const rb = join(s.dir, 'b.json');
  const ca = s.controller(a, { queue: 'alpha', 'report-output': ra });
  const cb = s.controller(b, { queue: 'beta', 'report-output': rb });
  s.worker('w1', { queue: 'alpha' });
  s.worker('w2', { queue: 'beta' });
  await waitFor('every action to exit', () => s.runs.every((r) => !r.running()), 45_000, 100);
  expect(ca.exit).toEqual({ code: 1, signal: null });
  expect(cb.exit).toEqual({ code: 0, signal: null });
  const repA = JSON.parse(readFileSync(ra, 'utf8'));
  const repB = JSON.parse(readFileSync(rb, 'utf8'));
  expect(repA.queue).toBe('alpha');
  expect(repB.queue).toBe('beta');
  expect(repA.tests.map((t: { id: string }) => t.id).sort()).toEqual([...a].sort());
  expect(repB.tests.map((t: { id: string }) => t.id).sort()).toEqual([...b].sort());
  for (const r of s.events().runners) expect(r.ids.every((id) => id.startsWith(r.worker === 'w1' ? 'qa/' : 'qb/'))).toBe(true);
});

test('a password-protected Redis: the password is masked before anything could print it, and kept out of the report and summary', async () => {
  const password = 'Pw-e2e-9f3c1a';
  const protectedRedis = await RedisServer.start();
  try {
    const c = protectedRedis.client();
    await c.config('SET', 'requirepass', password);
    c.disconnect();
    const s = new Scenario(protectedRedis, 'password');
    const url = `redis://:${password}@127.0.0.1:${protectedRedis.port}`;
    const tests = ['pw/pass-1', 'pw/pass-2'];
    const controller = s.controller(tests, { 'redis-url': url });
    const w1 = s.worker('w1', { 'redis-url': url });
    await finish(s);
    expect(controller.exit).toEqual({ code: 0, signal: null });
    expect(w1.exit).toEqual({ code: 0, signal: null });
    for (const r of [controller, w1]) {
      const lines = r.output().split('\n');
      const first = lines.findIndex((l) => l.includes(password));
      const mask = lines.findIndex((l) => l === `::add-mask::${password}`);
      expect(mask, `${r.name} masks the password`).toBeGreaterThanOrEqual(0);
      expect(first, `${r.name}: the first line holding the password is its ::add-mask::`).toBe(mask);
      expect(lines.filter((l) => l.includes(password) && !l.startsWith('::add-mask::')), `${r.name} prints the password`).toEqual([]);
    }
    expect(controller.summary()).not.toContain(password);
    expect(readFileSync(s.reportPath, 'utf8')).not.toContain(password);
  } finally {
    await protectedRedis.close();
  }
});
