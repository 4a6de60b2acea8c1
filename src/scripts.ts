// Loads the Lua scripts (src/lua, copied to dist/lua by the build) into an ioredis client.
// defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT, so a restarted Redis recovers.
import { readFileSync } from 'node:fs';
import type { Redis, Cluster } from 'ioredis';

export const SCRIPT_NAMES = ['reset', 'seed', 'start', 'register', 'claim', 'report', 'heartbeat', 'release', 'reap', 'abort'] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];

const luaDir = new URL('./lua/', import.meta.url);

function source(name: string): string {
  return readFileSync(new URL(`${name}.lua`, luaDir), 'utf8');
}

let cached: Map<ScriptName, string> | undefined;

/** lib.lua is prepended to each script: one copy of the shared helpers, one file per operation. */
export function scriptSources(): Map<ScriptName, string> {
  if (!cached) {
    const lib = source('lib');
    cached = new Map(SCRIPT_NAMES.map((n) => [n, `${lib}\n${source(n)}`]));
  }
  return cached;
}

export type ScriptClient = (Redis | Cluster) & Record<`sl_${ScriptName}`, (...args: (string | number)[]) => Promise<unknown>>;

export function defineScripts(redis: Redis | Cluster): ScriptClient {
  for (const [name, lua] of scriptSources()) {
    if (!(`sl_${name}` in redis)) redis.defineCommand(`sl_${name}`, { numberOfKeys: 8, lua });
  }
  return redis as ScriptClient;
}
