import { afterAll, beforeAll, expect, test } from 'vitest';
import { RedisServer } from './helpers/redis-server.js';
import { Queue } from '../src/queue.js';
import { runKeys } from '../src/keys.js';

let srv: RedisServer;
beforeAll(async () => { srv = await RedisServer.start(); });
afterAll(async () => { await srv.close(); });

test('smoke', async () => {
  const r = srv.client();
  const q = new Queue(r, runKeys('o/r', 'tests', '1'));
  await q.reset('e1', 100, { batchSize: 2, maxAttempts: 2, retries: 1, batchTimeout: 0, heartbeatTtl: 1, maxFailures: 0 });
  await q.seed('e1', ['a', 'b', 'c']);
  await q.start('e1');
  expect(await q.register('w1')).toMatchObject({ epoch: 'e1' });
  const c = await q.claim('e1', 'w1');
  expect(c).toMatchObject({ kind: 'ok', tests: ['a', 'b'] });
  if (c.kind !== 'ok') throw new Error();
  const rep = await q.report('e1', 'w1', c.lease, 'ok', new Map([['a', { outcome: 'passed', durationMs: 3, message: '' }], ['b', { outcome: 'failed', durationMs: 3, message: 'x' }]]));
  expect(rep).toEqual({ kind: 'ok', finals: { a: 'passed' } });
  const c2 = await q.claim('e1', 'w1');
  expect(c2).toMatchObject({ kind: 'ok', tests: ['b'], isolated: true });
  const p = await q.reap('e1', 1000);
  expect(p).toMatchObject({ total: 3, done: 1, running: 1, live: 1 });
  const d = await q.readRun('tests', '1', ['a', 'b', 'c']);
  expect(d.history.length).toBe(2);
  r.disconnect();
});
