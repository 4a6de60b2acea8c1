// The thin call layer of src/queue/queue.ts, in plain JS for the throughput bench: the Lua scripts of src/queue/lua
// with lib.lua and cost.lua prepended (as src/queue/scripts.ts does), defined on an ioredis client with defineCommand
// (EVALSHA, falling back to EVAL), called with the KEYS of src/queue/keys.ts scriptKeys in the same order.
// Every call is one round trip, counted in `calls`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

export const SCRIPT_NAMES = ['reset', 'seed', 'start', 'register', 'claim', 'report', 'heartbeat', 'release', 'reap', 'abort'];

export function scriptSources() {
  const dir = join(ROOT, 'src', 'queue', 'lua');
  const prelude = ['lib', 'cost'].map((n) => readFileSync(join(dir, `${n}.lua`), 'utf8')).join('\n');
  return new Map(SCRIPT_NAMES.map((n) => [n, `${prelude}\n${readFileSync(join(dir, `${n}.lua`), 'utf8')}`]));
}

/** src/queue/keys.ts runKeys. */
export function runKeys(repository, queue, run) {
  const esc = (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
  const prefix = `shardless:{${repository.replace(/[%{}]/g, esc)}/${queue.replace(/[%/{}]/g, esc)}/${run.replace(/[%/{}]/g, esc)}}:`;
  const k = (s) => `${prefix}${s}`;
  return {
    prefix, meta: k('meta'), queue: k('queue'), requeue: k('requeue'), tests: k('tests'), leases: k('leases'),
    workers: k('workers'), history: k('history'), costs: k('costs'), hbPrefix: k('hb:'), controller: k('controller'),
  };
}

/** src/queue/keys.ts scriptKeys: the KEYS of every script, in lib.lua's order. */
export function scriptKeys(k, hb) {
  return [k.meta, k.queue, k.requeue, k.tests, k.leases, k.workers, k.history, hb, k.costs];
}

export class Queue {
  /** Round trips made through this instance. */
  calls = 0;

  constructor(redis, keys) {
    this.redis = redis;
    this.keys = keys;
    for (const [name, lua] of scriptSources()) {
      if (!(`sl_${name}` in redis)) redis.defineCommand(`sl_${name}`, { numberOfKeys: 9, lua });
    }
  }

  k(hb = this.keys.controller) {
    return scriptKeys(this.keys, hb);
  }

  hb(worker) {
    return this.keys.hbPrefix + worker;
  }

  async reset(epoch, ttl, settings) {
    this.calls++;
    await this.redis.sl_reset(...this.k(), epoch, ttl, ...Object.entries(settings).flatMap(([k, v]) => [k, String(v)]));
  }

  /** Seeds in chunks of 1000 sent as one pipeline (one round trip), as src/queue/queue.ts does. */
  async seed(epoch, tests) {
    this.calls++;
    const pipe = this.redis.pipeline();
    for (let i = 0; i < tests.length; i += 1000) pipe.sl_seed(...this.k(), epoch, ...tests.slice(i, i + 1000).flatMap((id) => [id, '0']));
    for (const [err] of (await pipe.exec()) ?? []) if (err) throw err;
  }

  async start(epoch) {
    this.calls++;
    return Number(await this.redis.sl_start(...this.k(), epoch));
  }

  async register(worker) {
    this.calls++;
    return this.redis.sl_register(...this.k(this.hb(worker)), worker);
  }

  async claim(epoch, worker) {
    this.calls++;
    const r = await this.redis.sl_claim(...this.k(this.hb(worker)), epoch, worker);
    const kind = String(r[0]);
    if (kind === 'ok') return { kind, lease: String(r[1]), tests: r.slice(4).map(String) };
    return { kind };
  }

  /** Reports every test of the batch passed, with the fields the real worker sends. */
  async reportPassed(epoch, worker, lease, tests) {
    this.calls++;
    const obj = {};
    for (const id of tests) obj[id] = { o: 'passed', d: 1, m: '' };
    const r = await this.redis.sl_report(...this.k(this.hb(worker)), epoch, worker, lease, 'finished', JSON.stringify(obj));
    if (r[0] !== 'ok') throw new Error(`report of lease ${lease} by ${worker}: ${r[0]}`);
  }

  async heartbeat(epoch, worker) {
    this.calls++;
    return this.redis.sl_heartbeat(...this.k(this.hb(worker)), epoch, worker, this.keys.controller);
  }

  async release(epoch, worker, state) {
    this.calls++;
    return this.redis.sl_release(...this.k(this.hb(worker)), epoch, worker, '', state);
  }

  async reap(epoch, controllerTtlMs) {
    this.calls++;
    return this.redis.sl_reap(...this.k(), epoch, this.keys.hbPrefix, controllerTtlMs);
  }
}
