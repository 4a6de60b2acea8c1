// Connecting to Redis: a bounded first connection with a clear error, and reconnection within a
// window (a restarted Redis), after which pending commands fail instead of hanging.
import { Redis } from 'ioredis';
import { INPUT } from './names.js';
import { InputError } from './inputs.js';

export interface ConnectOptions {
  /** How long the first connection may take. */
  connectTimeoutMs?: number;
  /** How long to keep reconnecting once connected. */
  retryWindowMs?: number;
  name?: string;
}

export async function connectRedis(url: string, opts: ConnectOptions = {}): Promise<Redis> {
  const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
  const retryWindowMs = opts.retryWindowMs ?? 60_000;
  let failingSince = 0;
  let lastError = '';
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: opts.name,
    maxRetriesPerRequest: null,
    connectTimeout: 5_000,
    retryStrategy: () => {
      const now = Date.now();
      if (!failingSince) failingSince = now;
      if (now - failingSince > retryWindowMs) return null;
      return Math.min(200 + (now - failingSince) / 10, 1_000);
    },
  });
  // Without a listener ioredis prints every failed reconnect; keep the last one for the error message.
  redis.on('error', (e: Error) => { lastError = e.message; });
  redis.on('ready', () => { failingSince = 0; });
  const host = `${redis.options.host}:${redis.options.port}`;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().catch(() => redis.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), connectTimeoutMs);
      }),
    ]);
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    const why = lastError || (e as Error).message;
    throw new InputError(`Input '${INPUT.redisUrl}': cannot connect to Redis at ${host} within ${connectTimeoutMs / 1000} s (${why})`);
  } finally {
    clearTimeout(timer);
  }
  return redis;
}

export async function closeRedis(redis: Redis): Promise<void> {
  try {
    await Promise.race([redis.quit(), new Promise((r) => setTimeout(r, 1_000))]);
  } catch {
    /* already closed */
  }
  redis.disconnect();
}
