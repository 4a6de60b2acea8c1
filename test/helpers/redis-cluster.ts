// A real 3-master Redis Cluster on free ports, made from `redis-server --cluster-enabled yes` instances
// and `redis-cli --cluster create`, for the end-to-end suite to run against.
import { execFileSync } from 'node:child_process';
import { Cluster } from 'ioredis';
import { RedisServer, freePort, waitFor } from './redis-server.js';

export class RedisClusterServers {
  private constructor(readonly nodes: RedisServer[]) {}

  static async start(masters = 3): Promise<RedisClusterServers> {
    const nodes: RedisServer[] = [];
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      const s = new RedisServer(port, ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000']);
      await s.restart();
      nodes.push(s);
    }
    execFileSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore' });
    for (const n of nodes) {
      await waitFor('the cluster to be ok', () => execFileSync('redis-cli', ['-p', String(n.port), 'cluster', 'info']).toString().includes('cluster_state:ok'), 20_000, 100);
    }
    return new RedisClusterServers(nodes);
  }

  /** redis-url for shardless with redis-cluster: true: every node, comma-separated. */
  get url(): string {
    return this.nodes.map((n) => n.url).join(',');
  }

  client(): Cluster {
    const c = new Cluster(this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
    c.on('error', () => {});
    return c;
  }

  async close(): Promise<void> {
    for (const n of this.nodes) await n.close();
  }
}
