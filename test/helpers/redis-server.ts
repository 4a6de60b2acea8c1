// Spawns a throwaway redis-server on a free port, so tests can kill and restart it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../src/cli/redis-server.js';

// One free-port probe for the product and the tests.
export { freePort };


export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 10_000, everyMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export class RedisServer {
  proc?: ChildProcess;
  readonly dir = mkdtempSync(join(tmpdir(), 'shardless-redis-'));
  /** `server`: the program, redis-server or valkey-server (same arguments). */
  constructor(readonly port: number, public extraArgs: string[] = [], readonly server = 'redis-server') {}

  static async start(extraArgs: string[] = [], server = 'redis-server'): Promise<RedisServer> {
    const s = new RedisServer(await freePort(), extraArgs, server);
    await s.restart();
    return s;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    this.proc = spawn(this.server, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', this.dir, ...this.extraArgs], { stdio: 'ignore' });
    await waitFor('redis-server to accept connections', async () => {
      const c = new Redis(this.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      c.on('error', () => {});
      try {
        await c.connect();
        return (await c.ping()) === 'PONG';
      } finally {
        c.disconnect();
      }
    });
  }

  client(): Redis {
    const c = new Redis(this.port, '127.0.0.1');
    c.on('error', () => {});
    return c;
  }

  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
