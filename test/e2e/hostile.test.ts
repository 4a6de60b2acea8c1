// End-to-end with hostile input: test ids that a shell, a glob, an argv parser or a JS object would
// mangle reach the command as exact argv entries, once each; and garbage written into a run's Redis keys
// mid-run gives a clear `corrupt` error from the process that meets it, with no hang.

import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { type ActionRun, ROOT, shq, tempDir } from '../helpers/action.js';
import { runKeys } from '../../src/queue/keys.js';
import { Scenario, checkReport, expectAllKeysExpire, lastLine, requireDist, useRedisServer, waitFor } from './harness.js';

let redis: RedisServer;
beforeAll(requireDist);
useRedisServer((server) => (redis = server));

/** Exit 1 with an `::error::` line matching the pattern, and no stack trace. */
function expectCleanFailure(run: ActionRun, pattern: RegExp): void {
  const out = run.output();
  expect(run.exit, out).toEqual({ code: 1, signal: null });
  const errors = out.split('\n').filter((l) => l.startsWith('::error'));
  expect(errors.some((l) => pattern.test(l)), `an ::error:: line matching ${pattern} in:\n${out}`).toBe(true);
  expect(out, 'no stack trace').not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

// ---------------------------------------------------------------------------------------------------
// Hostile test ids

// A runner that passes every test and records, per batch, what it got: argv, SHARDLESS_TESTS and the
// tests file.
const RECORDER = `
import { readFileSync, writeFileSync } from 'node:fs';
const file = process.env.SHARDLESS_TESTS_FILE;
writeFileSync(process.env.REC_DIR + '/batch-' + process.env.SHARDLESS_BATCH + '-' + process.pid + '.json', JSON.stringify({
  argv: process.argv.slice(2),
  env: process.env.SHARDLESS_TESTS,
  file: file ? readFileSync(file, 'utf8') : null,
}));
`;

const INJECT = '::debug::injected-by-a-test-id';
const LEGACY_INJECT = '##[debug]legacy-injected-by-a-test-id';
/** Lines a GitHub runner reads as a workflow command, as the runner does: `::` after leading spaces. */
const commandLines = (run: ActionRun, id: string) => run.output().split('\n').filter((l) => l.trimStart().startsWith(id));

const LONG = `long-${'αβγ/x_'.repeat(400)}`.slice(0, 2000);

/** Ids the shell, globbing, option parsing or encodings could mangle (no newline: one id a line). */
const HOSTILE = [
  'with spaces in it',
  '  leading and trailing spaces  ',
  'tab\there',
  "single'quote",
  'double"quote',
  `mixed '"' quotes "'"`,
  "'",
  "'\\''",
  '$(touch pwned)',
  '`touch pwned-backtick`',
  '$(touch pwned-dollar)$HOME${PATH}$((1+1))',
  ';rm -rf x',
  '&& touch pwned-and',
  '| touch pwned-pipe',
  '> pwned-redirect',
  '< /etc/passwd',
  '-n',
  '--version',
  '-e',
  '-',
  '--',
  '*',
  'a*.txt',
  '?1.txt',
  '[ab]1.txt',
  '{a,b}1.txt',
  '**/*',
  '~',
  '~root/x',
  '!!',
  '#not a comment',
  'back\\slash\\n\\t',
  '%s%n%d',
  '{tests}',
  '{tests-file}',
  '{junit}',
  'constructor',
  'toString',
  'hasOwnProperty',
  '🧪 emoji ✅ 👩‍👩‍👧 flags 🇫🇷',
  'עברית/מבחן.test.ts',
  'مرحبا بالعالم',
  '\u202Eevil\u202C override',
  'e\u0301 combining vs \u00e9',
  'zero\u200Bwidth',
  'pipe|in|id|1|2|3|4',
  'h:1',
  'q|0|0|0|0',
  // Ids that look like workflow commands (debug ones: harmless should a log of this file reach a runner).
  INJECT,
  LEGACY_INJECT,
  LONG,
];

describe('hostile test ids from tests-file', () => {
  test('reach the command as exact argv entries, once each; nothing is expanded or executed', async () => {
    expect(LONG.length).toBe(2000);
    const s = new Scenario(redis, 'hostile');
    // A working directory where a glob or a `rm -rf x` would have something to act on.
    const cwd = tempDir('shardless-hostile-cwd-');
    for (const f of ['a1.txt', 'a2.txt', 'b1.txt']) writeFileSync(join(cwd, f), '');
    mkdirSync(join(cwd, 'x'));
    writeFileSync(join(cwd, 'x', 'keep'), '');
    const recDir = join(s.dir, 'rec');
    mkdirSync(recDir);
    const recorder = join(s.dir, 'record.mjs');
    writeFileSync(recorder, RECORDER);
    const testsFile = join(cwd, 'tests.txt');
    writeFileSync(testsFile, HOSTILE.map((id) => `${id}\n`).join(''));

    const wd = { 'working-directory': cwd };
    const controller = s.controller([], { ...wd, tests: '', 'tests-file': testsFile, 'batch-size': '7', retries: '0' });
    const node = `${shq(process.execPath)} ${shq(recorder)}`;
    // One worker with {tests}, one where the ids are appended to a command without placeholders.
    const env = { REC_DIR: recDir };
    s.worker('w1', { ...wd, command: `${node} {tests}` }, env);
    s.worker('w2', { ...wd, command: node }, env);
    await waitFor('the controller to exit', () => controller.exit, 60_000, 100);
    await s.allExited(15_000);

    expect(controller.exit, controller.output()).toEqual({ code: 0, signal: null });
    for (const r of s.runs) expect(r.exit, r.output()).toEqual({ code: 0, signal: null });

    // The report lists each id exactly once, passed.
    const report = s.report();
    checkReport(report, s, HOSTILE);
    expect(report.counts).toMatchObject({ total: HOSTILE.length, passed: HOSTILE.length });
    for (const t of report.tests) expect(t.runs.length, JSON.stringify(t.id)).toBe(1);

    // Every batch saw its ids exactly: as argv, in SHARDLESS_TESTS and in the tests file.
    const batches = readdirSync(recDir).map((f) => JSON.parse(readFileSync(join(recDir, f), 'utf8')) as { argv: string[]; env: string; file: string });
    expect(batches.length).toBeGreaterThanOrEqual(Math.ceil(HOSTILE.length / 7));
    for (const b of batches) {
      expect(b.env).toBe(b.argv.join('\n'));
      expect(b.file).toBe(b.argv.map((id) => `${id}\n`).join(''));
    }
    const seen = batches.flatMap((b) => b.argv);
    expect([...seen].sort()).toEqual([...HOSTILE].sort());
    for (const id of HOSTILE) expect(seen.filter((x) => x === id).length, JSON.stringify(id)).toBe(1);

    // Nothing ran: no pwned file anywhere near, `x` still there, no glob written out.
    for (const dir of [cwd, ROOT, s.dir]) expect(readdirSync(dir).filter((f) => f.startsWith('pwned')), dir).toEqual([]);
    expect(existsSync(join(cwd, 'x', 'keep'))).toBe(true);
    expect(readdirSync(cwd).sort()).toEqual(['a1.txt', 'a2.txt', 'b1.txt', 'tests.txt', 'x']);
    // The controller (which runs no test code) never prints an id where the runner reads a command.
    expect(commandLines(controller, INJECT)).toEqual([]);
    expect(controller.output()).not.toContain(LEGACY_INJECT);
    await expectAllKeysExpire(redis);
  });

  // The runner trims leading spaces before looking for `::command::`, so an id such as `::add-mask::…`,
  // `::stop-commands::…` or `::error file=…::…` printed as is would run as a workflow command (and `##[…]`
  // is read anywhere in a line). The worker prints ids between ::stop-commands:: markers, with '##['
  // broken up (src/worker/worker.ts logIds).
  test('the worker prints ids so that the runner cannot read them as workflow commands', async () => {
    const s = new Scenario(redis, 'inject');
    const dir = tempDir('shardless-inject-');
    const testsFile = join(dir, 'tests.txt');
    writeFileSync(testsFile, `${INJECT}\n${LEGACY_INJECT}\n`);
    const controller = s.controller([], { tests: '', 'tests-file': testsFile });
    const worker = s.worker('w1', { command: 'true' });
    await waitFor('the controller to exit', () => controller.exit, 30_000, 100);
    await s.allExited(15_000);
    expect(controller.exit, controller.output()).toEqual({ code: 0, signal: null });
    expect(commandLines(worker, INJECT), 'lines read as a command').toEqual([]);
    expect(worker.output().split('\n').filter((l) => l.includes(LEGACY_INJECT)), 'lines holding ##[').toEqual([]);
  });

  // Results built as `obj[id] = {...}` would set the prototype for the id `__proto__`, and JSON.stringify
  // would drop its result, so the test would run again until lost (src/queue/queue.ts Queue.report builds own
  // properties instead).
  test('the test id __proto__ passes like any other', async () => {
    const s = new Scenario(redis, 'proto');
    const dir = tempDir('shardless-proto-');
    const testsFile = join(dir, 'tests.txt');
    writeFileSync(testsFile, '__proto__\nplain-1\n');
    const controller = s.controller([], { tests: '', 'tests-file': testsFile, 'max-attempts': '2' });
    s.worker('w1', { command: 'true' });
    await waitFor('the controller to exit', () => controller.exit, 40_000, 100);
    await s.allExited(15_000);
    const report = s.report();
    checkReport(report, s, ['__proto__', 'plain-1']);
    expect(s.test(report, '__proto__').status).toBe('passed');
    expect(controller.exit, controller.output()).toEqual({ code: 0, signal: null });
  });

  // The leases and workers hashes keep a sentinel field "_": a worker named `_` must not read it as its
  // record (a misleading "corrupt run state"), nor escape the reaper or the report.
  test("worker-id '_' works (or is refused, naming worker-id)", async () => {
    const s = new Scenario(redis, 'underscore');
    const controller = s.controller(['u/pass-1', 'u/pass-2']);
    const worker = s.worker('_');
    await waitFor('the worker to exit', () => worker.exit, 30_000, 100);
    if (worker.exit!.code !== 0) {
      expectCleanFailure(worker, /worker-id/);
      return;
    }
    await waitFor('the controller to exit', () => controller.exit, 30_000, 100);
    expect(controller.exit).toEqual({ code: 0, signal: null });
  });
});

// ---------------------------------------------------------------------------------------------------
// Garbage in the run's keys

describe('garbage written into the run\'s Redis keys mid-run', () => {
  const keysOf = (s: Scenario) => runKeys('local', s.queue, s.runId);

  async function running(s: Scenario, worker: string) {
    return waitFor(`worker ${worker} to run its first batch`, () => s.events().runners.find((r) => r.worker === worker && r.started.length > 0), 20_000);
  }

  test('a queued test\'s state: the worker that claims it says `corrupt` and exits 1; the controller ends in bounded time', async () => {
    const s = new Scenario(redis, 'corrupt-tests');
    const tests = ['g/slow1500-first', 'g/pass-2', 'g/pass-3', 'g/pass-4'];
    const controller = s.controller(tests, { 'batch-size': '1', timings: 'false', 'no-worker-timeout': '5' });
    const worker = s.worker('w1');
    await running(s, 'w1');
    const c = redis.client();
    try {
      // The first test is held; the others wait in the queue.
      await c.hset(keysOf(s).tests, 'g/pass-2', 'garbage', 'g/pass-3', 'garbage', 'g/pass-4', 'garbage');
    } finally {
      c.disconnect();
    }
    await waitFor('the worker to exit', () => worker.exit, 15_000, 100);
    expectCleanFailure(worker, /corrupt/);
    expect(lastLine(worker.output())).toMatch(/^::error::.*corrupt/);
    // The controller gives up once no worker is left (no-worker-timeout), rather than waiting forever.
    await waitFor('the controller to exit', () => controller.exit, 30_000, 100);
    expect(controller.exit, controller.output()).toEqual({ code: 1, signal: null });
  });

  test('a worker\'s record: the controller (and the worker) say `corrupt` and exit 1', async () => {
    const s = new Scenario(redis, 'corrupt-workers');
    const tests = ['g/slow1500-first', 'g/pass-2', 'g/pass-3'];
    const controller = s.controller(tests, { 'batch-size': '1', timings: 'false', 'no-worker-timeout': '5' });
    const worker = s.worker('w1');
    await running(s, 'w1');
    const c = redis.client();
    try {
      await c.hset(keysOf(s).workers, 'w1', '{"not":"a worker"}');
    } finally {
      c.disconnect();
    }
    await s.allExited(30_000);
    expectCleanFailure(controller, /corrupt/);
    expectCleanFailure(worker, /corrupt/);
  });

  test('the lease a worker holds: its report says `corrupt` (exit 1), and so does the controller reaping it', async () => {
    const s = new Scenario(redis, 'corrupt-leases');
    const tests = ['g/slow1500-first', 'g/pass-2', 'g/pass-3'];
    const controller = s.controller(tests, { 'batch-size': '1', timings: 'false', 'no-worker-timeout': '5' });
    const worker = s.worker('w1');
    const runner = await running(s, 'w1');
    const lease = runner.env.SHARDLESS_BATCH;
    expect(lease).toMatch(/^\d+$/);
    const c = redis.client();
    try {
      await c.hset(keysOf(s).leases, lease, 'garbage');
    } finally {
      c.disconnect();
    }
    await s.allExited(30_000);
    expectCleanFailure(worker, /corrupt/);
    expectCleanFailure(controller, /corrupt/);
  });
});
