// The Redis key layout (docs/protocol.md#key-layout): a run's keys, and a queue's stored timings. Every
// key of a run shares one hash tag, so each Lua script touches a single slot (Redis Cluster) and runs
// of different repositories or queues never meet.

export interface RunKeys {
  prefix: string;
  /** The keys every script takes (see scriptKeys). */
  meta: string;
  queue: string;
  requeue: string;
  tests: string;
  leases: string;
  workers: string;
  history: string;
  costs: string;
  /** Prefix of the workers' heartbeat keys: `${hbPrefix}${workerId}`. */
  hbPrefix: string;
  /** The controller's heartbeat key. */
  controller: string;
}

const escape = (c: string) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

/**
 * A queue or run name as a part of the hash tag. A hash tag ends at the first `}`, and `/` separates
 * the parts, so both (and `%`, the escape itself) are percent-encoded: queue `a/b` with run `c` and
 * queue `a` with run `b/c` must never share a key.
 */
export function tagPart(s: string): string {
  return s.replace(/[%/{}]/g, escape);
}

/** The repository as a part of the hash tag: `owner/name`, its one `/` kept (ACL key patterns use it). */
export function repoPart(s: string): string {
  return s.replace(/[%{}]/g, escape);
}

export function runKeys(repository: string, queue: string, run: string): RunKeys {
  const prefix = `shardless:{${repoPart(repository)}/${tagPart(queue)}/${tagPart(run)}}:`;
  return {
    prefix,
    meta: `${prefix}meta`,
    queue: `${prefix}queue`,
    requeue: `${prefix}requeue`,
    tests: `${prefix}tests`,
    leases: `${prefix}leases`,
    workers: `${prefix}workers`,
    history: `${prefix}history`,
    costs: `${prefix}costs`,
    hbPrefix: `${prefix}hb:`,
    controller: `${prefix}controller`,
  };
}

/** The stored timings of a queue (src/sizing/timings.ts), kept outside the run's keys: they outlive its runs. */
export function timingsKeys(repository: string, queue: string): { costs: string; meta: string } {
  // A literal prefix no run key has (runs are shardless:{...}), so no run id can collide with it.
  const tag = `{${repoPart(repository)}/${tagPart(queue)}}`;
  return { costs: `shardless:timings:${tag}:costs`, meta: `shardless:timings:${tag}:meta` };
}

/** The KEYS argument of a script (the order lib.lua names them), with the given heartbeat key. */
export function scriptKeys(k: RunKeys, hb: string): string[] {
  return [k.meta, k.queue, k.requeue, k.tests, k.leases, k.workers, k.history, hb, k.costs];
}
