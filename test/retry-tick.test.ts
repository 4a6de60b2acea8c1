// retryTick (src/controller/controller.ts): a script call of the controller's tick that fails is retried with
// backoff, against a real redis-server that refuses every write (maxmemory 1) for a while; a failure that
// lasts past the bound ends it with a clear error; a corrupt run state, or a connection that gave up, ends it at once.
import { beforeAll, expect, test } from 'vitest';
import type { Redis } from 'ioredis';
import { RedisServer, useRedisServer, waitFor } from './helpers/redis-server.js';
import { runSettings } from './helpers/run-settings.js';
import { connectRedis, gaveUp } from '../src/queue/redis.js';
import { retryTick } from '../src/controller/controller.js';
import { Queue } from '../src/queue/queue.js';
import { runKeys } from '../src/queue/keys.js';

let redis: Redis;
let q: Queue;
const EPOCH = 'e1';

useRedisServer((server) => (redis = server.client()));

beforeAll(async () => {
  q = new Queue(redis, runKeys('o/r', 'tests', 'tick'));
  await q.reset(EPOCH, 600, runSettings({ batchSize: 1, noWorkerTimeout: 60 }));
  await q.seed(EPOCH, ['a']);
  await q.start(EPOCH);
});

test('a tick refused for a while is retried until Redis takes it again', async () => {
  await redis.config('SET', 'maxmemory', '1');
  await expect(q.reap(EPOCH, 1000)).rejects.toThrow(/OOM/);
  let calls = 0;
  const tick = retryTick('tick (reap)', () => {
    calls++;
    return q.reap(EPOCH, 1000);
  }, 20_000);
  await new Promise((r) => setTimeout(r, 700));
  await redis.config('SET', 'maxmemory', '0');
  expect(await tick).toMatchObject({ state: 'running', total: 1 });
  expect(calls).toBeGreaterThan(1);
});

test('a tick refused past the bound ends with an error that says so', async () => {
  await redis.config('SET', 'maxmemory', '1');
  try {
    await expect(retryTick('tick (reap)', () => q.reap(EPOCH, 1000), 1_000)).rejects.toThrow(/tick \(reap\) kept failing for \d+ s: .*OOM/);
  } finally {
    await redis.config('SET', 'maxmemory', '0');
  }
});

test('a corrupt run state is not retried', async () => {
  await redis.hset(q.keys.workers, 'w1', 'garbage');
  const t0 = Date.now();
  await expect(retryTick('tick (reap)', () => q.reap(EPOCH, 1000), 20_000)).rejects.toThrow(/corrupt run state.*worker w1/);
  expect(Date.now() - t0).toBeLessThan(5_000);
});

test('a connection that gave up reconnecting is not retried: Redis is gone for good (the fallback takes over)', async () => {
  const own = await RedisServer.start();
  const c = await connectRedis({ redisUrl: own.url, redisCa: '', redisInsecure: false, redisCluster: false }, { retryWindowMs: 300 });
  try {
    const oq = new Queue(c, runKeys('o/r', 'tests', 'gone'));
    await own.stop('SIGKILL');
    await waitFor('the connection to give up', () => gaveUp(c), 10_000);
    const t0 = Date.now();
    await expect(retryTick('tick (reap)', () => oq.reap(EPOCH, 1000), 20_000, () => gaveUp(c))).rejects.toThrow(/Connection is closed/);
    expect(Date.now() - t0).toBeLessThan(1_000);
  } finally {
    c.disconnect();
    await own.close();
  }
});
