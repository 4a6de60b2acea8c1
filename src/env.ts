// The environment of a process shardless starts for a runner (a batch, a warm runner, a listing).
import { ENV } from './names.js';

/**
 * The action's own INPUT_* variables and the variables its Redis URL may come from (SHARDLESS_REDIS_URL,
 * REDIS_URL) stay out of the command: each may hold the queue's password.
 */
export function withoutInputs(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const secret = new Set<string>(Object.values(ENV));
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('INPUT_') && !secret.has(k)));
}
