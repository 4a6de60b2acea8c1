// End-to-end: invalid inputs fail at once, with a one-line error naming the input, and exit 1.

import { describe, expect, onTestFailed, test } from 'vitest';
import { type RedisServer, freePort } from '../helpers/redis-server.js';
import { type ActionRun, dumpOutputs, startAction } from '../helpers/action.js';
import { requireDist, waitFor, useRedisServer } from './harness.js';

let redis: RedisServer;
useRedisServer((server) => (redis = server));

let seq = 0;
const runId = () => `bad-${process.pid}-${++seq}`;

async function expectInputError(
  inputs: Record<string, string>,
  env: Record<string, string>,
  name: RegExp | string,
  withinMs = 5_000,
): Promise<ActionRun> {
  requireDist();
  const t0 = Date.now();
  const run = startAction(inputs, env);
  onTestFailed(() => console.log(dumpOutputs([run])));
  await waitFor(`the action to fail (${String(name)})`, () => run.exit, withinMs + 2_000, 50);
  const elapsed = run.exitedAt! - t0;
  const out = run.output();
  expect(run.exit, out).toEqual({ code: 1, signal: null });
  expect(elapsed, `exits within ${withinMs} ms`).toBeLessThan(withinMs);
  const errors = out.split('\n').filter((l) => l.startsWith('::error'));
  expect(errors.length, `an ::error:: line in:\n${out}`).toBeGreaterThan(0);
  expect(out).toContain('::error::');
  const named = errors.filter((l) => (typeof name === 'string' ? l.includes(name) : name.test(l)));
  expect(named.length, `an ::error:: line naming ${String(name)} in:\n${out}`).toBeGreaterThan(0);
  // One line: no stack trace.
  expect(out, 'no stack trace').not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  return run;
}

describe('redis-url', () => {
  test('missing (and no SHARDLESS_REDIS_URL/REDIS_URL): controller', async () => {
    const run = await expectInputError({ mode: 'controller', 'run-id': runId(), tests: 'a/pass-1' }, {}, 'redis-url');
    // The message also says why it may be empty: secrets are not passed to workflows from forks.
    expect(run.output().split('\n').filter((l) => l.startsWith('::error')).join('\n')).toMatch(/fork/i);
  });

  test('missing (and no SHARDLESS_REDIS_URL/REDIS_URL): worker', async () => {
    await expectInputError({ mode: 'worker', 'run-id': runId(), command: 'true' }, {}, 'redis-url');
  });

  test.each(['http://x', 'not a url'])('malformed: %s', async (url) => {
    await expectInputError({ mode: 'controller', 'redis-url': url, 'run-id': runId(), tests: 'a/pass-1' }, {}, 'redis-url');
    await expectInputError({ mode: 'worker', 'redis-url': url, 'run-id': runId(), command: 'true' }, {}, 'redis-url');
  });

  test('malformed in SHARDLESS_REDIS_URL', async () => {
    await expectInputError({ mode: 'controller', 'run-id': runId(), tests: 'a/pass-1' }, { SHARDLESS_REDIS_URL: 'http://x' }, /redis-url|SHARDLESS_REDIS_URL/);
  });

  test('unreachable (nobody listens on the port), with fallback: fail: fails within 15 s, without printing the password', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const password = 's3cr3t-Pa55word';
    const run = await expectInputError(
      { mode: 'controller', 'redis-url': `redis://:${password}@127.0.0.1:${port}`, 'run-id': runId(), tests: 'a/pass-1', fallback: 'fail' },
      {},
      /redis/i,
      15_000,
    );
    const leaks = run.output().split('\n').filter((l) => l.includes(password) && !l.startsWith('::add-mask::'));
    expect(leaks, 'the password is masked').toEqual([]);
  });
});

describe('fallback inputs', () => {
  const worker = (inputs: Record<string, string>) => ({ mode: 'worker', 'redis-url': redis.url, 'run-id': runId(), command: 'true', ...inputs });

  test.each([
    [{ 'worker-index': '3', workers: '3' }, /Input 'worker-index' must be between 0 and 2, got 3/],
    [{ 'worker-index': '-1', workers: '3' }, /Input 'worker-index' must be a whole number/],
    [{ 'worker-index': '0' }, /Input 'worker-index' needs 'workers'/],
    [{ fallback: 'maybe' }, /Input 'fallback' must be static or fail/],
  ])('worker %j', async (inputs, message) => {
    await expectInputError(worker(inputs), {}, message);
  });

  test('controller: fallback', async () => {
    await expectInputError({ mode: 'controller', 'redis-url': redis.url, 'run-id': runId(), tests: 'a/pass-1', fallback: 'static,fail' }, {}, /Input 'fallback'/);
  });
});

describe('mode', () => {
  test('unknown', async () => {
    await expectInputError({ mode: 'boss', 'redis-url': redis.url, 'run-id': runId(), tests: 'a/pass-1' }, {}, 'mode');
  });
  test('missing', async () => {
    await expectInputError({ 'redis-url': redis.url, 'run-id': runId(), tests: 'a/pass-1' }, {}, 'mode');
  });
});

describe('numbers', () => {
  test('non-numeric batch-size', async () => {
    await expectInputError(
      { mode: 'controller', 'redis-url': redis.url, 'run-id': runId(), tests: 'a/pass-1', 'batch-size': 'ten' },
      {},
      'batch-size',
    );
  });
  test.each([
    ['heartbeat-ttl', 'soon'],
    ['max-attempts', 'many'],
    ['batch-timeout', '5s'],
    ['workers', 'eight'],
  ])('non-numeric %s (%s)', async (input, value) => {
    await expectInputError({ mode: 'controller', 'redis-url': redis.url, 'run-id': runId(), tests: 'a/pass-1', [input]: value }, {}, input);
  });
});

describe('required per role', () => {
  test('empty test list for the controller', async () => {
    await expectInputError({ mode: 'controller', 'redis-url': redis.url, 'run-id': runId(), tests: '' }, {}, 'tests');
  });
  test('missing command for a worker', async () => {
    await expectInputError({ mode: 'worker', 'redis-url': redis.url, 'run-id': runId(), 'worker-id': 'w1' }, {}, 'command');
  });
  test('missing run-id outside GitHub', async () => {
    await expectInputError({ mode: 'controller', 'redis-url': redis.url, tests: 'a/pass-1' }, {}, 'run-id');
  });
});
