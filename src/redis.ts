// Connecting to Redis: a bounded first connection with a clear error, and reconnection within a
// window (a restarted Redis), after which pending commands fail instead of hanging.
import * as core from '@actions/core';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';
import { INPUT } from './names.js';
import { InputError, type CommonConfig } from './inputs.js';

export interface ConnectOptions {
  /** How long the first connection may take. */
  connectTimeoutMs?: number;
  /** How long to keep reconnecting once connected. */
  retryWindowMs?: number;
  name?: string;
}

/** TLS for rediss:// URLs: certificates are verified (Node's CAs, or redis-ca); redis-insecure opts out. */
export function tlsOptions(cfg: Pick<CommonConfig, 'redisUrl' | 'redisCa' | 'redisInsecure'>): ConnectionOptions | undefined {
  if (!cfg.redisUrl.startsWith('rediss:')) {
    if (cfg.redisCa || cfg.redisInsecure) core.warning(`Inputs '${INPUT.redisCa}' and '${INPUT.redisInsecure}' apply to rediss:// URLs only`);
    return undefined;
  }
  const tls: ConnectionOptions = {};
  if (cfg.redisCa) {
    try {
      tls.ca = readFileSync(cfg.redisCa, 'utf8');
    } catch (e) {
      throw new InputError(`Input '${INPUT.redisCa}': cannot read '${cfg.redisCa}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  }
  if (cfg.redisInsecure) {
    core.warning(`Input '${INPUT.redisInsecure}' is true: the Redis server's certificate is not verified`);
    tls.rejectUnauthorized = false;
  }
  return tls;
}

export async function connectRedis(cfg: Pick<CommonConfig, 'redisUrl' | 'redisCa' | 'redisInsecure'>, opts: ConnectOptions = {}): Promise<Redis> {
  const url = cfg.redisUrl;
  const tls = tlsOptions(cfg);
  const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
  const retryWindowMs = opts.retryWindowMs ?? 60_000;
  let failingSince = 0;
  let lastError = '';
  const redis = new Redis(url, {
    lazyConnect: true,
    ...(tls ? { tls } : {}),
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
