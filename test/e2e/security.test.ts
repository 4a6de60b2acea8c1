// End-to-end security: TLS (certificates verified by default, `redis-ca`, the warned `redis-insecure`
// opt-out), a least-privilege Redis ACL user (docs/redis-acl.md) whose password never reaches the logs,
// and the isolation of runs that share a run id on one Redis.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createTlsServer } from 'node:tls';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { RedisServer, freePort } from '../helpers/redis-server.js';
import { type ActionRun, removeTempDirs, shq, tempDir } from '../helpers/action.js';
import { Scenario, checkReport, cleanup, expectCountOutputs, expectKeyExpires, lastLine, scanKeys, requireDist, waitFor } from './harness.js';

afterEach(cleanup);
afterAll(removeTempDirs);

async function finish(s: Scenario, controller: ActionRun, ms = 60_000): Promise<void> {
  await waitFor('the controller to exit', () => controller.exit, ms, 100);
  await s.allExited(15_000);
}

function errorLines(run: ActionRun): string[] {
  return run.output().split('\n').filter((l) => l.startsWith('::error'));
}

/** Exit 1 with one `::error::` line matching every pattern, and no stack trace. */
function expectCleanFailure(run: ActionRun, ...patterns: RegExp[]): void {
  const out = run.output();
  expect(run.exit, out).toEqual({ code: 1, signal: null });
  const errors = errorLines(run);
  expect(errors.length, out).toBeGreaterThan(0);
  for (const p of patterns) expect(errors.some((l) => p.test(l)), `an ::error:: line matching ${p} in:\n${out}`).toBe(true);
  // One line: the runner escapes a multi-line message as %0A.
  for (const l of errors) expect(l, 'a one-line error').not.toContain('%0A');
  expect(out, 'no stack trace').not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
}

// ---------------------------------------------------------------------------------------------------
// TLS

interface Certs {
  dir: string;
  ca: string;
  cert: string;
  key: string;
  /** A CA that did not sign the server's certificate. */
  otherCa: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed CA and a server certificate it signed for localhost and 127.0.0.1 (EC keys: fast). */
function makeCerts(): Certs {
  const dir = tempDir('shardless-tls-');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string) =>
    openssl(dir, 'req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=shardless ${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ca('ca');
  ca('other-ca');
  openssl(dir, 'req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  writeFileSync(join(dir, 'ext.cnf'), [
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    '',
  ].join('\n'));
  openssl(dir, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt',
    '-days', '2', '-extfile', 'ext.cnf');
  return { dir, ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), otherCa: join(dir, 'other-ca.crt') };
}

/**
 * A server certificate signed by the CA of `certs`, but wrong in one way: made for another host, or
 * expired (valid for one day of 2020). `openssl ca` is what sets past dates.
 */
function badCert(certs: Certs, how: 'wrong-host' | 'expired'): { cert: string; key: string } {
  const dir = join(certs.dir, how);
  mkdirSync(join(dir, 'db'), { recursive: true });
  writeFileSync(join(dir, 'db', 'index.txt'), '');
  writeFileSync(join(dir, 'db', 'serial'), '01\n');
  const san = how === 'wrong-host' ? 'DNS:redis.elsewhere.example' : 'DNS:localhost,IP:127.0.0.1';
  writeFileSync(join(dir, 'ca.cnf'), [
    '[ca]', 'default_ca = ca_default', '[ca_default]', 'database = db/index.txt', 'new_certs_dir = db', 'serial = db/serial',
    'default_md = sha256', 'policy = any', 'unique_subject = no', 'default_days = 2', '[any]', 'commonName = supplied',
    '[ext]', `subjectAltName = ${san}`, 'basicConstraints = CA:FALSE', '',
  ].join('\n'));
  openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr',
    '-subj', `/CN=${how === 'wrong-host' ? 'redis.elsewhere.example' : 'localhost'}`);
  openssl(dir, 'ca', '-batch', '-config', 'ca.cnf', '-cert', certs.ca, '-keyfile', join(certs.dir, 'ca.key'), '-in', 'server.csr',
    '-out', 'server.crt', '-extensions', 'ext', ...(how === 'expired' ? ['-startdate', '20200101000000Z', '-enddate', '20200102000000Z'] : []));
  return { cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
}

/** A TLS server that presents a certificate and nothing else: the handshake fails before any Redis command. */
async function tlsServer(cert: { cert: string; key: string }): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createTlsServer({ cert: readFileSync(cert.cert), key: readFileSync(cert.key) }, (sock) => sock.on('error', () => {}));
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** redis-server listening on TLS only (`--port 0`). */
class TlsRedisServer extends RedisServer {
  constructor(port: number, readonly certs: Certs) {
    super(port);
  }

  static async startTls(certs: Certs): Promise<TlsRedisServer> {
    const s = new TlsRedisServer(await freePort(), certs);
    await s.restart();
    return s;
  }

  override get url(): string {
    return `rediss://127.0.0.1:${this.port}`;
  }

  override async restart(): Promise<void> {
    const { cert, key, ca } = this.certs;
    this.proc = spawn('redis-server', ['--port', '0', '--tls-port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', this.dir, '--tls-cert-file', cert, '--tls-key-file', key, '--tls-ca-cert-file', ca, '--tls-auth-clients', 'no'], { stdio: 'ignore' });
    await waitFor('redis-server to accept TLS connections', async () => {
      const c = this.client({ lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await c.connect();
        return (await c.ping()) === 'PONG';
      } finally {
        c.disconnect();
      }
    });
  }

  override client(extra: Record<string, unknown> = {}): Redis {
    const c = new Redis({ host: '127.0.0.1', port: this.port, tls: { ca: readFileSync(this.certs.ca, 'utf8') }, ...extra });
    c.on('error', () => {});
    return c;
  }
}

describe('TLS', () => {
  let certs: Certs;
  let tls: TlsRedisServer;
  beforeAll(async () => {
    requireDist();
    certs = makeCerts();
    tls = await TlsRedisServer.startTls(certs);
  });
  afterAll(async () => {
    await tls?.close();
  });

  test('rediss:// without redis-ca (or with the wrong CA): a one-line error naming redis-url, exit 1', async () => {
    const s = new Scenario(tls, 'tls-untrusted');
    const controller = s.controller(['t/pass-1']);
    const worker = s.worker('w1');
    const wrongCa = s.worker('w2', { 'redis-ca': certs.otherCa });
    await s.allExited(30_000);
    for (const r of [controller, worker, wrongCa]) {
      expectCleanFailure(r, /redis-url/, /certificate/i);
      // Nothing ran, nothing was written.
      expect(r.output()).not.toMatch(/shardless (controller|worker)[^:]*: run /);
    }
    expect(lastLine(controller.output())).toMatch(/^::error::.*redis-url/);
    expect(s.events().runners).toEqual([]);
    const c = tls.client();
    try {
      expect(await c.dbsize()).toBe(0);
    } finally {
      c.disconnect();
    }
  });

  // A certificate that fails verification is a permanent error: the client gives up on the first one
  // (src/queue/redis.ts connectRedis) instead of retrying until the 10 s connect timeout.
  test('an untrusted certificate fails at once (not after the connect timeout)', async () => {
    const s = new Scenario(tls, 'tls-fast');
    const controller = s.controller(['t/pass-1']);
    await waitFor('the controller to exit', () => controller.exit, 20_000, 50);
    expectCleanFailure(controller, /redis-url/, /certificate/i);
    expect(controller.exitedAt! - controller.startedAt, 'fails within 5 s').toBeLessThan(5_000);
  });

  test.each([
    ['wrong-host', /Hostname\/IP does not match certificate's altnames/],
    ['expired', /certificate has expired/],
  ] as const)('a server certificate signed by the trusted CA but %s fails at once, naming the reason', async (how, reason) => {
    const server = await tlsServer(badCert(certs, how));
    try {
      const s = new Scenario(tls, `tls-${how}`);
      const url = `rediss://127.0.0.1:${server.port}`;
      const controller = s.controller(['t/pass-1'], { 'redis-url': url, 'redis-ca': certs.ca });
      const worker = s.worker('w1', { 'redis-url': url, 'redis-ca': certs.ca });
      await s.allExited(20_000);
      for (const r of [controller, worker]) {
        expectCleanFailure(r, /redis-url/, reason);
        expect(r.exitedAt! - r.startedAt, `${r.name} fails within 5 s`).toBeLessThan(5_000);
        // The CA is the right one: the message must not send the user after another.
        expect(lastLine(r.output()), r.name).not.toContain('redis-ca');
      }
    } finally {
      await server.close();
    }
  });

  test('with redis-ca the run completes over TLS', async () => {
    const s = new Scenario(tls, 'tls-ca');
    const tests = ['t/pass-1', 't/pass-2', 't/fail-3', 't/skip-4', 't/pass-5'];
    const inputs = { 'redis-ca': certs.ca };
    const controller = s.controller(tests, { ...inputs, 'batch-size': '2', retries: '1' });
    const workers = [s.worker('w1', inputs), s.worker('w2', inputs)];
    await finish(s, controller);
    // t/fail-3 fails: the run completes and the controller says so.
    expect(controller.exit).toEqual({ code: 1, signal: null });
    expect(lastLine(controller.output())).toMatch(/^::error::.*t\/fail-3/);
    const report = s.report();
    checkReport(report, s, tests);
    expect(report.status).toBe('failed');
    expect(report.counts).toMatchObject({ total: 5, passed: 3, failed: 1, skipped: 1, lost: 0, notRun: 0 });
    expectCountOutputs(controller.outputs(), report, s);
    for (const r of [controller, ...workers]) {
      expect(r.output()).toContain(`Redis rediss://127.0.0.1:${tls.port}`);
      expect(r.output(), 'no insecure warning with a CA').not.toMatch(/redis-insecure/);
    }
  });

  test('with redis-insecure: true the run completes, with a warning naming redis-insecure', async () => {
    const s = new Scenario(tls, 'tls-insecure');
    const tests = ['i/pass-1', 'i/pass-2', 'i/pass-3'];
    const inputs = { 'redis-insecure': 'true' };
    const controller = s.controller(tests, inputs);
    const worker = s.worker('w1', inputs);
    await finish(s, controller);
    expect(controller.exit, controller.output()).toEqual({ code: 0, signal: null });
    expect(worker.exit, worker.output()).toEqual({ code: 0, signal: null });
    checkReport(s.report(), s, tests);
    expect(s.report().status).toBe('passed');
    for (const r of [controller, worker]) {
      const warnings = r.output().split('\n').filter((l) => l.startsWith('::warning') && l.includes('redis-insecure'));
      expect(warnings.length, r.output()).toBeGreaterThan(0);
      expect(warnings[0]).toMatch(/not verified/i);
    }
  });

  test('bad TLS inputs fail at once naming the input: unreadable redis-ca, non-boolean redis-insecure', async () => {
    const s = new Scenario(tls, 'tls-bad-input');
    const missing = s.controller(['t/pass-1'], { 'redis-ca': join(certs.dir, 'no-such-ca.crt') });
    const notBool = s.worker('w1', { 'redis-insecure': 'maybe' });
    await s.allExited(10_000);
    expectCleanFailure(missing, /redis-ca/, /no-such-ca\.crt/);
    expectCleanFailure(notBool, /redis-insecure/);
    for (const r of [missing, notBool]) expect(r.exitedAt! - r.startedAt).toBeLessThan(5_000);
  });
});

// ---------------------------------------------------------------------------------------------------
// ACL: the least-privilege user of docs/redis-acl.md

const PASSWORD = 's3cret';
const ADMIN_PASSWORD = 'admin-9f3b7c';

/**
 * The commands shardless runs, directly or inside its Lua scripts (kept in step with docs/redis-acl.md).
 * Found by running the action under MONITOR and with an ACL that allows nothing else (ACL LOG stays empty).
 */
const ACL_COMMANDS = [
  // connection: ioredis's ready check (INFO), connection name, PING at connect, QUIT at the end, SELECT for /<db>
  'ping', 'info', 'client|setname', 'quit', 'select',
  // the Lua scripts (ioredis sends EVALSHA, then EVAL on NOSCRIPT)
  'eval', 'evalsha',
  // read back and timings, outside scripts
  'time', 'exists', 'hexists', 'hget', 'hgetall', 'hmget', 'hset', 'expire', 'lrange', 'hscan',
  // inside the scripts
  'del', 'hincrby', 'set', 'llen', 'lpop', 'rpush', 'lrem', 'ltrim', 'lpush', 'pttl',
];
/**
 * Used only on rarer paths: a /<db> in the URL, a late result of a reclaimed batch, an adaptive batch
 * that skips a test too long for it (LPUSH puts it back).
 */
const RARE_COMMANDS = ['select', 'lrem', 'lpush'];

function aclRules(...keyPatterns: string[]): string[] {
  return ['reset', 'on', `>${PASSWORD}`, ...keyPatterns.map((k) => `~${k}`), 'resetchannels', '-@all', ...ACL_COMMANDS.map((c) => `+${c}`)];
}

/** The repository a user of one repository only (`onerepo`) may work for. */
const ONE_REPO = 'owner/repo';

/**
 * A Redis whose default user is disabled; `ci` may touch shardless:* only, `onerepo` the keys of
 * ONE_REPO's runs and timings only, `narrow` only other:*.
 */
class AclRedisServer extends RedisServer {
  static async startAcl(server: string): Promise<AclRedisServer> {
    const s = new AclRedisServer(await freePort(), [], server);
    await s.restart();
    return s;
  }

  override async restart(): Promise<void> {
    await super.restart();
    const c = new Redis(this.port, '127.0.0.1');
    try {
      await c.call('ACL', 'SETUSER', 'admin', 'reset', 'on', `>${ADMIN_PASSWORD}`, '~*', '&*', '+@all');
      await c.call('ACL', 'SETUSER', 'ci', ...aclRules('shardless:*'));
      await c.call('ACL', 'SETUSER', 'onerepo', ...aclRules(`shardless:{${ONE_REPO}/*`, `shardless:timings:{${ONE_REPO}/*`));
      await c.call('ACL', 'SETUSER', 'narrow', ...aclRules('other:*'));
      await c.call('ACL', 'SETUSER', 'default', 'off');
    } finally {
      c.disconnect();
    }
  }

  override client(): Redis {
    const c = new Redis({ host: '127.0.0.1', port: this.port, username: 'admin', password: ADMIN_PASSWORD });
    c.on('error', () => {});
    return c;
  }

  userUrl(user: string): string {
    return `redis://${user}:${PASSWORD}@127.0.0.1:${this.port}`;
  }
}

/**
 * The ACL on Debian's redis-server and on valkey-server (newer: Redis 7.2+ commands such as CLIENT SETINFO,
 * which a client may send unasked), when installed (.ci/run installs it).
 */
const ACL_SERVERS = ['redis-server', 'valkey-server'];
const installed = (server: string) => spawnSync(server, ['--version'], { stdio: 'ignore' }).status === 0;

for (const server of ACL_SERVERS) describe.skipIf(!installed(server))(`ACL (${server})`, () => {
  let acl: AclRedisServer;
  beforeAll(async () => {
    requireDist();
    acl = await AclRedisServer.startAcl(server);
  });
  afterAll(async () => {
    await acl?.close();
  });

  test('the default user is really disabled (so the runs below use the ACL user)', async () => {
    const c = new Redis({ host: '127.0.0.1', port: acl.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => {});
    try {
      await c.connect().catch(() => undefined);
      await expect(c.ping()).rejects.toThrow();
    } finally {
      c.disconnect();
    }
  });

  test('controller + 2 workers complete as a user limited to shardless:* and the commands of docs/redis-acl.md; the password never shows', async () => {
    const admin = acl.client();
    try {
      await admin.call('ACL', 'LOG', 'RESET');
      await admin.config('RESETSTAT');
      // Two runs of one queue: the second one reads the timings the first one saved. The first one sizes
      // batches by duration (the adaptive claim), the second one by count; a flaky test goes to the requeue.
      const urls = { 'redis-url': acl.userUrl('ci') };
      let queue = '';
      const variants: Record<string, string>[] = [{ 'batch-duration': '1', retries: '1' }, { 'batch-size': '2', retries: '1' }];
      for (const [i, inputs] of variants.entries()) {
        const s = new Scenario(acl, `acl-${i}`);
        if (queue) (s as unknown as { queue: string }).queue = queue;
        queue = s.queue;
        // slow1500 outlasts the 1 s heartbeat period (heartbeat-ttl 3), so the heartbeat script (and the
        // EXISTS inside it) runs in every variant however fast the rest goes.
        const tests = ['acl/pass-1', 'acl/flaky-2', 'acl/skip-3', 'acl/slow1500-4', 'acl/pass-5', 'acl/pass-6'];
        const controller = s.controller(tests, { ...urls, ...inputs, 'junit-output': join(s.dir, 'merged.xml') });
        const workers = [s.worker('w1', urls), s.worker('w2', urls)];
        await finish(s, controller);
        expect(controller.exit, controller.output()).toEqual({ code: 0, signal: null });
        for (const w of workers) expect(w.exit, w.output()).toEqual({ code: 0, signal: null });
        const report = s.report();
        checkReport(report, s, tests);
        expect(report.counts).toMatchObject({ total: 6, passed: 4, flaky: 1, skipped: 1, failed: 0, lost: 0, notRun: 0 });
        if (i === 1) expect(controller.output()).toMatch(/timings: [1-9]\d* of 6 tests known/);

        // The password is in no log line but the one that masks it, and in no file the action wrote.
        for (const r of s.runs) {
          const leaks = r.output().split('\n').filter((l) => l.includes(PASSWORD) && l !== `::add-mask::${PASSWORD}`);
          expect(leaks, `${r.name} prints the password`).toEqual([]);
          expect(r.output(), `${r.name} masks the password`).toContain(`::add-mask::${PASSWORD}`);
          expect(r.output()).toContain('redis://ci:***@127.0.0.1');
          expect(JSON.stringify(r.outputs())).not.toContain(PASSWORD);
          expect(r.summary()).not.toContain(PASSWORD);
        }
        expect(readFileSync(s.reportPath, 'utf8')).not.toContain(PASSWORD);
        expect(readFileSync(join(s.dir, 'merged.xml'), 'utf8')).not.toContain(PASSWORD);
        expect(s.events().lines.join('\n')).not.toContain(PASSWORD);
      }

      // Nothing was denied, not even what a client tolerates (the INFO ready check, CLIENT SETNAME, QUIT).
      expect(await admin.call('ACL', 'LOG')).toEqual([]);
      // And the list is not larger than needed: every command of it was used, but the rare-path ones.
      const stats = String(await admin.info('commandstats'));
      const used = new Set([...stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].filter((m) => Number(m[2]) > 0).map((m) => m[1]));
      const unused = ACL_COMMANDS.filter((c) => !RARE_COMMANDS.includes(c) && !used.has(c));
      expect(unused, 'commands of the ACL no run used').toEqual([]);
      // Invariant 6 holds for the keys this user wrote.
      const keys = await admin.keys('*');
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys) {
        expect(k.startsWith('shardless:')).toBe(true);
        await expectKeyExpires(admin, k);
      }
    } finally {
      admin.disconnect();
    }
  });

  test('a user whose keys exclude shardless:* gets a clear error at once, exit 1, no hang', async () => {
    const s = new Scenario(acl, 'acl-denied');
    const urls = { 'redis-url': acl.userUrl('narrow') };
    const controller = s.controller(['d/pass-1'], urls);
    const noTimings = s.controller(['d/pass-1'], { ...urls, timings: 'false' });
    const worker = s.worker('w1', urls);
    await s.allExited(15_000);
    for (const r of [controller, noTimings, worker]) {
      expectCleanFailure(r, /NOPERM|permission/i);
      expect(r.exitedAt! - r.startedAt, `${r.name} fails at once`).toBeLessThan(10_000);
      expect(r.output().split('\n').filter((l) => l.includes(PASSWORD) && !l.startsWith('::add-mask::'))).toEqual([]);
    }
    expect(s.events().runners).toEqual([]);
  });

  test('a user limited to the keys of one repository: its runs complete, a run of another repository is refused', async () => {
    const urls = { 'redis-url': acl.userUrl('onerepo') };
    const ok = new Scenario(acl, 'acl-onerepo');
    const env = { GITHUB_REPOSITORY: ONE_REPO };
    const tests = ['r/pass-1', 'r/pass-2', 'r/skip-3'];
    const controller = ok.controller(tests, urls, env);
    ok.worker('w1', urls, env);
    await finish(ok, controller);
    expect(controller.exit, controller.output()).toEqual({ code: 0, signal: null });
    checkReport(ok.report(), ok, tests);

    const other = new Scenario(acl, 'acl-otherrepo');
    const otherEnv = { GITHUB_REPOSITORY: `${ONE_REPO}-fork` };
    const denied = [other.controller(['r/pass-1'], urls, otherEnv), other.worker('w1', urls, otherEnv)];
    await other.allExited(15_000);
    for (const r of denied) expectCleanFailure(r, /NOPERM|permission/i);
  });

  test('a wrong password: a clear error naming redis-url, exit 1, not printed', async () => {
    const s = new Scenario(acl, 'acl-wrongpass');
    const controller = s.controller(['d/pass-1'], { 'redis-url': `redis://ci:not-${PASSWORD}-x@127.0.0.1:${acl.port}` });
    await waitFor('the controller to exit', () => controller.exit, 15_000, 50);
    expectCleanFailure(controller, /redis-url/, /WRONGPASS|password|auth/i);
    expect(controller.output().split('\n').filter((l) => l.includes(`not-${PASSWORD}-x`) && !l.startsWith('::add-mask::'))).toEqual([]);
  });

  // The command's environment leaves out the action's inputs and the variables the Redis URL may come from
  // (README, "Environment given to the command"), so no test can read the queue's password, whichever way
  // the URL was given.
  test.each(['input', 'SHARDLESS_REDIS_URL', 'REDIS_URL'] as const)('the command does not get the Redis password in its environment (URL from %s)', async (from) => {
    const s = new Scenario(acl, `acl-env-${from}`);
    const dump = join(s.dir, 'env-$SHARDLESS_BATCH.json');
    const url = acl.userUrl('ci');
    const inputs = from === 'input' ? { 'redis-url': url } : { 'redis-url': '' };
    const env: Record<string, string> = from === 'input' ? {} : { [from]: url };
    const controller = s.controller(['e/pass-1'], { 'redis-url': url });
    s.worker('w1', { ...inputs, command: `${shq(process.execPath)} -e 'process.stdout.write(JSON.stringify(process.env))' > "${dump}"` }, env);
    await finish(s, controller);
    expect(controller.exit, controller.output()).toEqual({ code: 0, signal: null });
    const seen = JSON.parse(readFileSync(join(s.dir, 'env-1.json'), 'utf8')) as Record<string, string>;
    expect(seen.SHARDLESS_BATCH).toBe('1');
    expect(Object.keys(seen).filter((k) => k.startsWith('INPUT_') || k === 'SHARDLESS_REDIS_URL' || k === 'REDIS_URL'), 'variables left out').toEqual([]);
    const leaking = Object.entries(seen).filter(([, v]) => v.includes(PASSWORD)).map(([k]) => k);
    expect(leaking, 'variables holding the Redis password').toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------
// Isolation of runs that share a run id on one Redis

describe('isolation', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    requireDist();
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    await redis?.close();
  });

  test.each(['repository', 'queue'] as const)('same run id, different %s, at the same time: each run sees only its own tests and keys', async (differs) => {
    const a = new Scenario(redis, `iso-${differs}-a`);
    const b = new Scenario(redis, `iso-${differs}-b`);
    // Same run id for both; the same queue too unless the queue is what differs.
    (b as unknown as { runId: string }).runId = a.runId;
    if (differs === 'repository') (b as unknown as { queue: string }).queue = a.queue;
    const env = (s: Scenario) => ({ GITHUB_REPOSITORY: differs === 'repository' && s === b ? 'other-owner/other-repo' : 'owner/repo' });
    const ids = (tag: string) => [`shared/pass-1`, `${tag}/pass-2`, `${tag}/slow400-3`, `${tag}/slow300-4`, `${tag}/pass-5`, `${tag}/skip-6`];
    const tests = new Map([[a, ids('iso-a')], [b, ids('iso-b')]]);
    const controllers = new Map<Scenario, ActionRun>();
    for (const s of [a, b]) controllers.set(s, s.controller(tests.get(s)!, { 'batch-size': '1' }, env(s)));
    for (const s of [a, b]) for (const w of ['w1', 'w2']) s.worker(w, {}, env(s));

    await Promise.all([a, b].map((s) => finish(s, controllers.get(s)!)));
    const [ca, cb] = [controllers.get(a)!, controllers.get(b)!];
    // They did run at the same time.
    expect(ca.startedAt).toBeLessThan(cb.exitedAt!);
    expect(cb.startedAt).toBeLessThan(ca.exitedAt!);
    for (const s of [a, b]) {
      const c = controllers.get(s)!;
      expect(c.exit, c.output()).toEqual({ code: 0, signal: null });
      const report = s.report();
      checkReport(report, s, tests.get(s)!);
      expect(report.counts).toMatchObject({ total: 6, passed: 5, skipped: 1 });
      // Its workers ran exactly its own tests, each once (the shared id too: once per run).
      const ran = s.events().runners.flatMap((r) => r.ids);
      expect([...ran].sort()).toEqual([...tests.get(s)!].sort());
      // Its workers are the only ones in its report.
      expect(report.workers.map((w) => w.id).sort()).toEqual(['w1', 'w2']);
    }

    // The keys: two disjoint sets, one per run (run keys under its own hash tag, timings per
    // repository/queue), and nothing else; every key with a TTL.
    const c = redis.client();
    try {
      const keys = await scanKeys(c);
      const owned = (s: Scenario) => {
        const repo = env(s).GITHUB_REPOSITORY;
        return keys.filter((k) => k.startsWith(`shardless:{${repo}/${s.queue}/${s.runId}}:`) || k.startsWith(`shardless:timings:{${repo}/${s.queue}}:`));
      };
      const [ka, kb] = [owned(a), owned(b)];
      expect(ka.length).toBeGreaterThan(0);
      expect(kb.length).toBeGreaterThan(0);
      expect(ka.filter((k) => kb.includes(k)), 'keys both runs claim').toEqual([]);
      const ours = keys.filter((k) => k.includes(a.runId) || k.includes(a.queue) || k.includes(b.queue));
      expect([...ours].sort()).toEqual([...ka, ...kb].sort());
      for (const k of [...ka, ...kb]) await expectKeyExpires(c, k);
    } finally {
      c.disconnect();
    }
  });
});
