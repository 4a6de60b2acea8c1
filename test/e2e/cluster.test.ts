// End-to-end against a real 3-master Redis Cluster: every script is single-slot (one hash tag per run),
// so a run with a kill, a split and a failure completes with no CROSSSLOT error, and its keys all live
// on one node with a TTL.
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { RedisClusterServers } from '../helpers/redis-cluster.js';
import type { RedisServer } from '../helpers/redis-server.js';
import { killWorkerTree, removeTempDirs } from '../helpers/action.js';
import { Scenario, checkReport, cleanup, expectKeyExpires, scanKeys, waitFor } from './harness.js';

let cluster: RedisClusterServers;
beforeAll(async () => {
  cluster = await RedisClusterServers.start();
}, 60_000);
afterAll(async () => {
  await cluster?.close();
  removeTempDirs();
});
afterEach(cleanup);

test('a run over a 3-master cluster completes, with a worker killed mid-batch', async () => {
  // Scenario only needs `url` from the server it is given.
  const s = new Scenario(cluster as unknown as RedisServer, 'cluster');
  const tests = [
    ...Array.from({ length: 12 }, (_, i) => `c/pass-${i}.test.ts`),
    'c/slow3000-held.test.ts',
    'c/fail-one.test.ts',
  ];
  const inputs = { 'redis-cluster': 'true' };
  const controller = s.controller(tests, { ...inputs, 'batch-size': '3', timings: 'false' });
  const w1 = s.worker('w1', inputs);
  const w2 = s.worker('w2', inputs);
  // Kill whichever worker takes the slow test, with its batch, while it holds it.
  const runner = await waitFor('a worker to start the slow test', () => s.events().runners.find((r) => r.started.some((id) => id.includes('slow3000'))), 30_000);
  const holder = runner.worker === 'w1' ? w1 : w2;
  killWorkerTree(holder, s.stateDir, holder === w1 ? 'w1' : 'w2');
  const w3 = s.worker('w3', inputs);

  await waitFor('the controller to exit', () => controller.exit, 60_000, 100);
  expect(controller.output()).not.toMatch(/CROSSSLOT|MOVED|non local key/i);
  const report = s.report();
  checkReport(report, s, tests);
  expect(report.counts).toMatchObject({ total: 14, failed: 1, lost: 0, notRun: 0 });
  expect(controller.exit?.code).toBe(1);
  const slow = s.test(report, 'c/slow3000-held.test.ts');
  expect(slow.status).toBe('passed');
  expect(slow.runs.map((r) => r.outcome)).toEqual(['lost', 'passed']);
  await waitFor('the surviving workers to exit', () => [w3, holder === w1 ? w2 : w1].every((w) => !w.running()), 20_000, 100);

  // One slot: the run's keys sit on one node, each with a TTL.
  const client = cluster.client();
  try {
    await client.ping(); // discovers the nodes
    const owners = new Set<number>();
    for (const node of client.nodes('master')) {
      for (const k of await scanKeys(node, `shardless:*${s.runId}*`)) {
        owners.add(Number((node.options as { port: number }).port));
        await expectKeyExpires(node, k);
      }
    }
    expect(owners.size).toBe(1);
  } finally {
    client.disconnect();
  }
});
