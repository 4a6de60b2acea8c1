// Loads the Lua scripts (src/queue/lua; ncc copies each file named below into dist/) into an ioredis client.
// defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT, so a restarted Redis recovers.
import { readFileSync } from 'node:fs';
import type { Redis, Cluster } from 'ioredis';

export const SCRIPT_NAMES = ['reset', 'seed', 'start', 'register', 'claim', 'report', 'heartbeat', 'release', 'reap', 'abort', 'verdict'] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

// One literal URL per file, so that ncc sees each asset and rewrites its path in the bundle.
const FILES: Record<ScriptName | Prelude, URL> = {
  lib: new URL('./lua/lib.lua', import.meta.url),
  cost: new URL('../sizing/cost.lua', import.meta.url),
  reset: new URL('./lua/reset.lua', import.meta.url),
  seed: new URL('./lua/seed.lua', import.meta.url),
  start: new URL('./lua/start.lua', import.meta.url),
  register: new URL('./lua/register.lua', import.meta.url),
  claim: new URL('./lua/claim.lua', import.meta.url),
  report: new URL('./lua/report.lua', import.meta.url),
  heartbeat: new URL('./lua/heartbeat.lua', import.meta.url),
  release: new URL('./lua/release.lua', import.meta.url),
  reap: new URL('./lua/reap.lua', import.meta.url),
  abort: new URL('./lua/abort.lua', import.meta.url),
  verdict: new URL('./lua/verdict.lua', import.meta.url),
};

/** Helpers prepended, in this order, to every script: shared helpers, then the run's cost model. */
export const PRELUDE = ['lib', 'cost'] as const;
type Prelude = (typeof PRELUDE)[number];

function source(name: ScriptName | Prelude): string {
  return readFileSync(FILES[name], 'utf8');
}

let cached: Map<ScriptName, string> | undefined;

/** lib.lua and cost.lua are prepended to each script: one copy of the shared helpers, one file per operation. */
export function scriptSources(): Map<ScriptName, string> {
  if (!cached) {
    const prelude = PRELUDE.map(source).join('\n');
    cached = new Map(SCRIPT_NAMES.map((n) => [n, `${prelude}\n${source(n)}`]));
  }
  return cached;
}

export type ScriptClient = (Redis | Cluster) & Record<`sl_${ScriptName}`, (...args: (string | number)[]) => Promise<unknown>>;

export function defineScripts(redis: Redis | Cluster): ScriptClient {
  for (const [name, lua] of scriptSources()) {
    if (!(`sl_${name}` in redis)) redis.defineCommand(`sl_${name}`, { numberOfKeys: 9, lua });
  }
  return redis as ScriptClient;
}
