// The thin call layer of src/queue/queue.ts, in plain JS for the throughput bench: the scripts, their
// sources and the key layout come from the build (dist/queue, src/queue/wire.ts: run `npm run build`
// after changing src/queue), defined on an ioredis client with defineCommand (EVALSHA, falling back to
// EVAL), called with the KEYS of scriptKeys. Every call is one round trip, counted in `calls`.
import { runKeys, scriptKeys, scriptSources } from '../dist/queue/index.js';

export { runKeys };

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
