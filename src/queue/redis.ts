// Connecting to Redis: a bounded first connection with a clear error, and reconnection within a
// window (a restarted Redis), after which pending commands fail instead of hanging.
import * as core from '@actions/core';
import { readFileSync } from 'node:fs';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';
import { INPUT, TEST_ENV } from '../names.js';
import { InputError } from '../errors.js';

/** A single Redis, or a Redis Cluster (every key of a run shares one slot). */
export type RedisClient = Redis | Cluster;
/** What connecting needs of the inputs (redis-url, redis-ca, redis-insecure, redis-cluster). */
export interface RedisConfig { redisUrl: string; redisCa: string; redisInsecure: boolean; redisCluster: boolean }

/** The URL with its password replaced, for logs. */
export function maskUrl(url: string): string {
  const urls = splitUrls(url);
  if (urls.length > 1) return urls.map(maskUrl).join(' ');
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** The URLs of a redis-url value: one, or (Redis Cluster) several separated by spaces or commas. */
export function splitUrls(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean);
}

export interface ConnectOptions {
  /** How long the first connection may take. */
  connectTimeoutMs?: number;
  /** How long to keep reconnecting once connected. */
  retryWindowMs?: number;
  name?: string;
}

/** Redis could not be reached in time (not a refused certificate or password): what a fallback covers. */
export class RedisUnreachableError extends InputError {}

/** The connection gave up: Redis stayed unreachable past the reconnect window, and never comes back to it. */
export function gaveUp(redis: RedisClient | undefined): boolean {
  return redis?.status === 'end';
}

/** A window in ms: the default, or (the project's own tests) a shorter one from the environment. */
function windowMs(name: string, def: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : def;
}

function isCertificateError(code: string): boolean {
  return /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME/.test(code);
}

/** The certificate's issuer is not trusted: what a CA in redis-ca cures (an expired or misnamed one it does not). */
function isUntrustedIssuer(code: string): boolean {
  return /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code);
}

/** TLS for rediss:// URLs: certificates are verified (Node's CAs, or redis-ca); redis-insecure opts out. */
export function tlsOptions(cfg: Pick<RedisConfig, 'redisUrl' | 'redisCa' | 'redisInsecure'>): ConnectionOptions | undefined {
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

export async function connectRedis(cfg: RedisConfig, opts: ConnectOptions = {}): Promise<RedisClient> {
  const url = cfg.redisUrl;
  const tls = tlsOptions(cfg);
  const connectTimeoutMs = opts.connectTimeoutMs ?? windowMs(TEST_ENV.connectTimeoutMs, 10_000);
  const retryWindowMs = opts.retryWindowMs ?? windowMs(TEST_ENV.reconnectWindowMs, 60_000);
  let failingSince = 0;
  let lastError = '';
  let lastCode = '';
  let everReady = false;
  const retry = () => {
    // An untrusted certificate will not become trusted by retrying.
    if (!everReady && isCertificateError(lastCode)) return null;
    const now = Date.now();
    if (!failingSince) failingSince = now;
    if (now - failingSince > retryWindowMs) return null;
    return Math.min(200 + (now - failingSince) / 10, 1_000);
  };
  const common: RedisOptions = {
    ...(tls ? { tls } : {}),
    connectionName: opts.name,
    // No CLIENT SETINFO on connect (ioredis 5.10+): the ACL user of docs/redis-acl.md may not run it, and
    // Redis 7.2+ and Valkey would log a NOPERM for every connection.
    disableClientInfo: true,
    maxRetriesPerRequest: null,
    connectTimeout: 5_000,
  };
  let redis: RedisClient;
  let host: string;
  if (cfg.redisCluster) {
    const nodes = splitUrls(url).map((u) => new URL(u));
    const auth = nodes[0];
    redis = new Cluster(nodes.map((n) => ({ host: n.hostname, port: Number(n.port || 6379) })), {
      lazyConnect: true,
      clusterRetryStrategy: retry,
      redisOptions: {
        ...common,
        username: auth.username ? decodeURIComponent(auth.username) : undefined,
        password: auth.password ? decodeURIComponent(auth.password) : undefined,
      },
    });
    host = nodes.map((n) => `${n.hostname}:${n.port || 6379}`).join(', ');
  } else {
    const single = new Redis(url, { ...common, lazyConnect: true, retryStrategy: retry });
    redis = single;
    host = `${single.options.host}:${single.options.port}`;
  }
  // Without a listener ioredis prints every failed reconnect; keep the last one for the error message.
  redis.on('error', (e: NodeJS.ErrnoException) => {
    lastError = e.message;
    lastCode = e.code ?? '';
  });
  redis.on('ready', () => {
    failingSince = 0;
    everReady = true;
  });
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
    const why = (lastError || (e as Error).message) +
      (isUntrustedIssuer(lastCode) ? `; give the CA of the server's certificate in '${INPUT.redisCa}'` : '');
    // A refused certificate fails at once (see retry), not after the connect timeout.
    const what = isCertificateError(lastCode) ? `the certificate of Redis at ${host} was refused` : `cannot connect to Redis at ${host} within ${connectTimeoutMs / 1000} s`;
    const message = `Input '${INPUT.redisUrl}': ${what} (${why})`;
    // A refused certificate or password is a mistake to fix, not an outage to work around.
    const refused = isCertificateError(lastCode) || /WRONGPASS|NOAUTH|NOPERM|invalid password/i.test(lastError);
    throw refused ? new InputError(message) : new RedisUnreachableError(message);
  } finally {
    clearTimeout(timer);
  }
  return redis;
}

export async function closeRedis(redis: RedisClient): Promise<void> {
  try {
    await Promise.race([redis.quit(), new Promise((r) => setTimeout(r, 1_000))]);
  } catch {
    /* already closed */
  }
  redis.disconnect();
}
