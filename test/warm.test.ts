// The worker's side of a warm runner (src/worker/warm.ts) against a real runner process speaking the protocol
// of src/presets/files/warm.cjs: one process serves batch after batch; one that ends without answering
// gives no result (never "passed", even with exit code 0); one that retires (past its memory bound) or
// times out is replaced for the next batch; cancel kills its whole group at once.
// test/e2e/warm.test.ts runs the vitest preset's real warm runner through the bundled action.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { WarmRunner } from '../src/worker/warm.js';
import { ROOT, isAlive } from './helpers/action.js';
import { waitFor } from './helpers/redis-server.js';

let dir: string;
let runner: WarmRunner | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shardless-warm-'));
});
afterEach(() => {
  runner?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// A runner whose "tests" say what to do: exit0 / crash / hang / leak / anything else passes. It writes
// its pid and its grandchild's (a `sleep`, in its group) as the batch's JUnit, for the test to read.
const SCRIPT = `
const { serve } = require(${JSON.stringify(join(ROOT, 'src', 'presets', 'files', 'warm.cjs'))});
const { spawn } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const child = spawn('sleep', ['600'], { stdio: 'ignore' });
serve(() => {}, async ({ tests }) => {
  writeFileSync(process.env.SHARDLESS_JUNIT, JSON.stringify({ pid: process.pid, child: child.pid }));
  if (tests.includes('exit0')) process.exit(0);
  if (tests.includes('crash')) process.kill(process.pid, 'SIGKILL');
  if (tests.includes('hang')) await new Promise(() => {});
  if (tests.includes('leak')) Object.defineProperty(process, 'memoryUsage', { value: () => ({ rss: 1e12 }) });
  return 0;
});
`;

function start(): WarmRunner {
  const script = join(dir, 'runner.cjs');
  writeFileSync(script, SCRIPT);
  runner = new WarmRunner({ script, args: [], cwd: dir });
  return runner;
}

let seq = 0;
const batch = (r: WarmRunner, tests: string[], timeoutMs = 0) =>
  r.batch({ tests, workerId: 'w', batchId: String(++seq), isolated: false, attempt: 1, tmpDir: dir, timeoutMs });

test('one process serves batch after batch; each batch gets its own files and SHARDLESS_* environment', async () => {
  const r = start();
  r.ensure(); // as the worker does before its first claim
  const a = await batch(r, ['a']).start();
  const b = await batch(r, ['b']).start();
  expect(a).toMatchObject({ exitCode: 0, signal: null, timedOut: false, cancelled: false, usesJUnit: true });
  expect(a.junitFiles).toHaveLength(1);
  expect(b.junitFiles[0]).not.toBe(a.junitFiles[0]);
  expect(a.costsFile).toMatch(/costs\.json$/);
  expect(r.started).toBe(1);
  // Only the first batch waited for the runner's start (the cost model leaves its wall out).
  expect([a.firstOnRunner, b.firstOnRunner]).toEqual([true, false]);
});

test('a runner that exits 0 without answering: no result (exit code null), and a new runner next', async () => {
  const r = start();
  const out = await batch(r, ['exit0']).start();
  expect(out).toMatchObject({ exitCode: null, signal: null });
  const next = await batch(r, ['a']).start();
  expect(next).toMatchObject({ exitCode: 0, firstOnRunner: true });
  expect(r.started).toBe(2);
});

test('a crash takes its batch only (killed by a signal), the next batch runs on a new runner; its group is gone', async () => {
  const r = start();
  await batch(r, ['a']).start();
  const pid = r.pid!;
  const out = await batch(r, ['crash']).start();
  expect(out.signal).toBe('SIGKILL');
  expect(isAlive(pid)).toBe(false);
  expect((await batch(r, ['a']).start()).exitCode).toBe(0);
  expect(r.pid).not.toBe(pid);
});

test('a runner past its memory bound answers, then is replaced before the next batch', async () => {
  const r = start();
  const out = await batch(r, ['leak']).start();
  expect(out.exitCode).toBe(0);
  const pid = r.pid!;
  await waitFor('the retired runner to be gone', () => !isAlive(pid), 2_000);
  await batch(r, ['a']).start();
  expect(r.started).toBe(2);
});

test('batch-timeout kills the runner’s whole group; cancel kills it at once', async () => {
  const r = start();
  const out = await batch(r, ['hang'], 500).start();
  expect(out).toMatchObject({ timedOut: true, signal: 'SIGTERM' });
  const { child } = JSON.parse(readFileSync(out.junitFiles[0], 'utf8')) as { child: number };
  await waitFor('the runner’s grandchild to be gone', () => !isAlive(child), 2_000);

  const b = batch(r, ['hang']);
  const running = b.start();
  await waitFor('the new runner', () => r.started === 2);
  const t0 = Date.now();
  b.cancel();
  const c = await running;
  expect(Date.now() - t0).toBeLessThan(1_000);
  expect(c).toMatchObject({ cancelled: true, signal: 'SIGKILL' });
});
