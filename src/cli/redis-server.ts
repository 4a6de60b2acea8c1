// A throwaway redis-server for `shardless run`: on a free port of 127.0.0.1, without persistence, in a
// temporary directory, in a process group of its own (so that Ctrl-C in a terminal does not stop it
// before the workers have handed their tests back); stopped and cleaned up by stop(). It runs under a
// small Node watchdog that kills it when this process goes away without stopping it (SIGKILL, crash):
// the watchdog's stdin is a pipe from this process, which the system closes when it dies.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const INSTALL_HINT =
  'no redis-server found on the PATH, and no Redis URL given (--redis-url, SHARDLESS_REDIS_URL or REDIS_URL).\n' +
  'Install Redis (6.2 or newer) or Valkey:\n' +
  '  Debian/Ubuntu:  sudo apt-get install redis-server\n' +
  '  macOS:          brew install redis\n' +
  '  Fedora:         sudo dnf install redis\n' +
  'or point shardless at a running one: --redis-url redis://127.0.0.1:6379';

/** The first redis-server (or valkey-server) on the PATH, or null. */
export function findRedisServer(env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  const exts = process.platform === 'win32' ? ['.exe', ''] : [''];
  for (const name of ['redis-server', 'valkey-server']) {
    for (const dir of dirs) {
      for (const ext of exts) {
        const file = join(dir, name + ext);
        try {
          accessSync(file, constants.X_OK);
          return file;
        } catch {
          // not here
        }
      }
    }
  }
  return null;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** True when a PING on 127.0.0.1:port gets +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host: '127.0.0.1' });
    let buf = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

export interface ThrowawayRedis {
  url: string;
  port: number;
  /** The watchdog's: the leader of the process group that holds redis-server. */
  pid: number;
  /** SIGTERM, then SIGKILL after a second; removes the temporary directory. Safe to call twice. */
  stop(): Promise<void>;
  /** Synchronous last resort (process 'exit'): SIGKILL and remove the directory. */
  kill(): void;
}

/** node -e WATCHDOG redis-server args...: runs redis-server, stops it on SIGTERM or when stdin closes. */
const WATCHDOG = `
const { spawn } = require('node:child_process');
const [bin, ...args] = process.argv.slice(1);
const r = spawn(bin, args, { stdio: ['ignore', 'ignore', 'inherit'] });
const stop = (s) => { try { r.kill(s); } catch {} };
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGTERM'));
process.on('SIGHUP', () => stop('SIGTERM'));
process.stdin.on('end', () => stop('SIGKILL'));
process.stdin.on('error', () => stop('SIGKILL'));
process.stdin.resume();
r.on('error', (e) => { process.stderr.write(e.message + '\\n'); process.exit(127); });
r.on('exit', (c) => {
  try { require('node:fs').rmSync(process.env.SHARDLESS_REDIS_DIR, { recursive: true, force: true }); } catch {}
  process.exit(c ?? 1);
});
`;

function killGroup(pid: number | undefined): void {
  if (!pid || pid <= 1) return;
  for (const p of [-pid, pid]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

export async function startRedis(binary: string): Promise<ThrowawayRedis> {
  let lastError = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'shardless-redis-'));
    let stderr = '';
    const proc: ChildProcess = spawn(process.execPath, ['-e', WATCHDOG, binary, '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--protected-mode', 'yes', '--loglevel', 'warning'], { stdio: ['pipe', 'ignore', 'pipe'], detached: true, env: { ...process.env, SHARDLESS_REDIS_DIR: dir } });
    proc.stdin!.on('error', () => {});
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    let exited = false;
    const exitedP = new Promise<void>((r) => proc.once('exit', () => { exited = true; r(); }));
    proc.once('error', (e) => { lastError = e.message; exited = true; });
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline && !(await ping(port))) await new Promise((r) => setTimeout(r, 50));
    const cleanDir = () => rmSync(dir, { recursive: true, force: true });
    if (exited || Date.now() >= deadline) {
      killGroup(proc.pid);
      cleanDir();
      lastError ||= stderr.trim().split('\n').pop() ?? '';
      lastError ||= exited ? `exited with code ${proc.exitCode}` : 'did not answer PING within 10 s';
      continue;
    }
    let stopping: Promise<void> | undefined;
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      pid: proc.pid!,
      stop() {
        stopping ??= (async () => {
          if (!exited) {
            proc.kill('SIGTERM');
            const t = setTimeout(() => killGroup(proc.pid), 1_000);
            await exitedP;
            clearTimeout(t);
          }
          cleanDir();
        })();
        return stopping;
      },
      kill() {
        if (!exited) killGroup(proc.pid);
        cleanDir();
      },
    };
  }
  throw new Error(`could not start ${binary}: ${lastError}`);
}
