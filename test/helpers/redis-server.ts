// Spawns a throwaway redis-server on a free port, so tests can kill and restart it; the set-up of a test
// file against one (useRedisServer) and the checks of its keys' TTLs (invariant 6).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { freePort } from '../../src/cli/redis-server.js';
import { cleanupActions, removeTempDirs } from './action.js';

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
  /** The clients handed out by client(), disconnected by close(). */
  private readonly clients = new Set<Redis>();
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

  /** A client of this server, disconnected when the server is closed. */
  client(): Redis {
    const c = new Redis(this.port, '127.0.0.1');
    c.on('error', () => {});
    this.clients.add(c);
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
    for (const c of this.clients) c.disconnect();
    this.clients.clear();
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The set-up of a test file against Redis: its own redis-server on a free port for the whole file (handed
 * to `set` once started); after each test, the actions it started (helpers/action.ts) stopped and, with
 * `everyKeyExpires`, invariant 6 checked over every key its runs (and the earlier ones) left, so each test
 * is checked whatever runs before it; at the end, the server, its clients and the temporary folders gone.
 */
export function useRedisServer(set: (server: RedisServer) => void, opts: { everyKeyExpires?: boolean } = {}): void {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await RedisServer.start();
    set(server);
  });
  afterAll(async () => {
    await server?.close();
    removeTempDirs();
  });
  afterEach(async () => {
    await cleanupActions();
    if (opts.everyKeyExpires && server) await expectAllKeysExpire(server);
  });
}

/**
 * Invariant 6 for one key: it has a TTL. A short-lived key (the controller's or a worker's heartbeat)
 * may expire between the SCAN that listed it and this check: PTTL -2 then, which is no violation.
 * Only -1 (no expiry) is; PTTL, not TTL, as TTL rounds a last second down to 0.
 */
export async function expectKeyExpires(c: { pttl(key: string): Promise<number> }, key: string): Promise<void> {
  const pttl = await c.pttl(key);
  expect(pttl === -2 || pttl > 0, `${key} has a TTL (PTTL ${pttl})`).toBe(true);
}

/** Every key (or every key matching `match`) of one Redis node, by SCAN (never KEYS). */
export async function scanKeys(c: Redis, match?: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = match ? await c.scan(cursor, 'MATCH', match, 'COUNT', 1000) : await c.scan(cursor, 'COUNT', 1000);
    cursor = next;
    out.push(...batch);
  } while (cursor !== '0');
  return [...new Set(out)];
}

/** Invariant 6: no key without a TTL (every key of every run so far on this server). */
export async function expectAllKeysExpire(redis: RedisServer): Promise<void> {
  const c = redis.client();
  try {
    const keys = await scanKeys(c);
    const ttls = await Promise.all(keys.map(async (k) => [k, await c.ttl(k)] as const));
    expect(ttls.filter(([, t]) => t === -1).map(([k]) => k), 'keys without a TTL').toEqual([]);
  } finally {
    c.disconnect();
  }
}
