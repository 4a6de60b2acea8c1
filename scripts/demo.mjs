#!/usr/bin/env node
// A real local run: a throwaway redis-server on a free port, one controller and 3 workers of the
// bundled action (dist/index.js, driven through INPUT_* as GitHub does) over a small example suite.
// Usage: npm run demo
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const WORKERS = 3;

if (spawnSync('redis-server', ['--version']).error) {
  console.error('redis-server not found: install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)');
  process.exit(1);
}

const port = await new Promise((resolve) => {
  const srv = createServer().listen(0, '127.0.0.1', () => {
    const p = srv.address().port;
    srv.close(() => resolve(p));
  });
});
const tmp = mkdtempSync(join(tmpdir(), 'shardless-demo-'));
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp], { stdio: 'ignore' });
for (let i = 0; ; i++) {
  if (spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().includes('PONG')) break;
  if (i > 100) throw new Error('redis-server did not start');
  await new Promise((r) => setTimeout(r, 50));
}

// The example suite: test files whose names say how long they take; one of them fails.
const suite = readFileSync(join(root, 'examples/demo/tests.txt'), 'utf8');
const common = {
  'INPUT_REDIS-URL': `redis://127.0.0.1:${port}`,
  'INPUT_RUN-ID': `demo-${Date.now()}`,
  'INPUT_WORKING-DIRECTORY': join(root, 'examples/demo'),
  'INPUT_HEARTBEAT-TTL': '5',
};
function action(inputs, tag) {
  const summary = join(tmp, `${tag}-summary.md`);
  writeFileSync(summary, '');
  writeFileSync(join(tmp, `${tag}-output`), '');
  const env = { ...process.env, ...common, ...inputs, GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: join(tmp, `${tag}-output`), RUNNER_TEMP: tmp };
  const child = spawn(process.execPath, [join(root, 'dist/index.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const s of [child.stdout, child.stderr]) {
    s.setEncoding('utf8');
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const l of lines) console.log(`[${tag}] ${l}`);
    });
  }
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, summary })));
}

const controller = action({ INPUT_MODE: 'controller', INPUT_TESTS: suite, 'INPUT_BATCH-SIZE': '3', 'INPUT_JUNIT-OUTPUT': join(tmp, 'junit.xml') }, 'controller');
const workers = Array.from({ length: WORKERS }, (_, i) => action({
  INPUT_MODE: 'worker', 'INPUT_WORKER-ID': `w${i + 1}`, INPUT_COMMAND: 'node run-tests.mjs --junit {junit} {tests}',
}, `w${i + 1}`));
const [ctl, ...ws] = await Promise.all([controller, ...workers]);
console.log('\n================ job summary (GITHUB_STEP_SUMMARY) ================\n');
console.log(readFileSync(ctl.summary, 'utf8'));
console.log(`controller exit ${ctl.code} (1 is expected: the suite has a failing test); workers: ${ws.map((w) => w.code).join(', ')}`);
redis.kill('SIGKILL');
rmSync(tmp, { recursive: true, force: true });
