#!/usr/bin/env node
// Writes docs/summary-example.md: the job summary (GITHUB_STEP_SUMMARY) of a real local run, so that
// GitHub renders it (mermaid included) as a user would see it.
//
// A throwaway redis-server on a free port, one controller and 3 workers of the bundled action
// (dist/index.js, driven through INPUT_* variables as the runner does), over a suite of the fake runner
// (test/fixtures/fake-runner.mjs) with passes, a failure, a flaky test (retries: 1), a test that hangs
// until it is lost (batch-timeout: 1, max-attempts: 2) and a skipped one. The slow tests are short enough
// that no batch of two of them reaches the 1 s batch-timeout.
//
// Usage: node scripts/summary-example.mjs   (needs redis-server on the PATH and an up-to-date dist/)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist', 'index.js');
const fakeRunner = join(root, 'test', 'fixtures', 'fake-runner.mjs');
const out = join(root, 'docs', 'summary-example.md');
const WORKERS = 3;

// The suite: what a test does is said by the prefix of its file name (see fake-runner.mjs).
const SUITE = [
  'spec/api/slow350-orders.test.ts',
  'spec/api/slow300-users.test.ts',
  'spec/api/pass-health.test.ts',
  'spec/auth/slow250-login.test.ts',
  'spec/auth/pass-logout.test.ts',
  'spec/auth/pass-tokens.test.ts',
  'spec/cart/fail-checkout.test.ts',
  'spec/cart/slow200-totals.test.ts',
  'spec/cart/pass-coupons.test.ts',
  'spec/export/hang-pdf.test.ts',
  'spec/legacy/skip-ie11.test.ts',
  'spec/search/flaky-autocomplete.test.ts',
  'spec/search/slow150-ranking.test.ts',
  'spec/search/pass-filters.test.ts',
  'spec/ui/slow100-render.test.ts',
  'spec/ui/pass-theme.test.ts',
];

if (!existsSync(dist)) fail(`${dist} does not exist: run \`npm run build\` first`);
if (spawnSync('redis-server', ['--version']).error) {
  fail('redis-server not found: install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)');
}

const port = await new Promise((resolve, reject) => {
  const srv = createServer().on('error', reject).listen(0, '127.0.0.1', () => {
    const p = srv.address().port;
    srv.close(() => resolve(p));
  });
});
const tmp = mkdtempSync(join(tmpdir(), 'shardless-summary-example-'));
const stateDir = join(tmp, 'fake-state');
mkdirSync(stateDir);
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp], {
  stdio: 'ignore',
});
const children = new Set();
let exitCode = 1;
try {
  for (let i = 0; ; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().includes('PONG')) break;
    if (i > 100) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  exitCode = await example();
} finally {
  for (const c of children) c.kill('SIGKILL');
  redis.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);

async function example() {
  const shq = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  const common = {
    'INPUT_REDIS-URL': `redis://127.0.0.1:${port}`,
    'INPUT_RUN-ID': '4242424242-1',
    'INPUT_WORKING-DIRECTORY': root,
    FAKE_STATE_DIR: stateDir,
  };
  const controller = action(
    {
      INPUT_MODE: 'controller',
      INPUT_TESTS: SUITE.join('\n'),
      'INPUT_BATCH-SIZE': '2',
      INPUT_RETRIES: '1',
      'INPUT_BATCH-TIMEOUT': '1',
      'INPUT_MAX-ATTEMPTS': '2',
      'INPUT_HEARTBEAT-TTL': '5',
      'INPUT_NO-WORKER-TIMEOUT': '60',
      INPUT_TIMEOUT: '120',
      'INPUT_REPORT-OUTPUT': join(tmp, 'report.json'),
    },
    'controller',
  );
  const workers = Array.from({ length: WORKERS }, (_, i) =>
    action(
      {
        INPUT_MODE: 'worker',
        'INPUT_WORKER-ID': `w${i + 1}`,
        INPUT_COMMAND: `${shq(process.execPath)} ${shq(fakeRunner)} --junit {junit} {tests}`,
      },
      `w${i + 1}`,
    ),
  );
  function action(inputs, tag) {
    const summary = join(tmp, `${tag}-summary.md`);
    const output = join(tmp, `${tag}-output`);
    const runnerTemp = join(tmp, `${tag}-runner-temp`);
    mkdirSync(runnerTemp);
    writeFileSync(summary, '');
    writeFileSync(output, '');
    // Nothing GitHub-, runner- or shardless-specific from the host (say, when this runs inside a job).
    const base = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(GITHUB_|INPUT_|RUNNER_|ACTIONS_|SHARDLESS_|REDIS_URL$|FAKE_STATE_DIR$)/.test(k)),
    );
    const env = { ...base, ...common, ...inputs, GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: output, RUNNER_TEMP: runnerTemp };
    const child = spawn(process.execPath, [dist], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
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
    return new Promise((resolve) =>
      child.on('close', (code) => {
        children.delete(child);
        resolve({ code, summary });
      }),
    );
  }

  const [ctl, ...ws] = await Promise.all([controller, ...workers]);
  const summary = readFileSync(ctl.summary, 'utf8');
  const report = JSON.parse(readFileSync(join(tmp, 'report.json'), 'utf8'));
  console.log(`controller exit ${ctl.code} (1 is expected: a test failed and one was lost); workers: ${ws.map((w) => w.code).join(', ')}`);

  // The example is only worth keeping when it shows every kind of test.
  const status = (id) => report.tests.find((t) => t.id === id)?.status;
  const expected = {
    'spec/cart/fail-checkout.test.ts': 'failed',
    'spec/search/flaky-autocomplete.test.ts': 'flaky',
    'spec/export/hang-pdf.test.ts': 'lost',
    'spec/legacy/skip-ie11.test.ts': 'skipped',
    'spec/auth/pass-logout.test.ts': 'passed',
  };
  const wrong = Object.entries(expected).filter(([id, st]) => status(id) !== st);
  if (wrong.length > 0 || report.counts.notRun > 0 || !summary.includes('```mermaid')) {
    console.error(`unexpected run, ${out} not written: ${JSON.stringify(wrong.map(([id]) => [id, status(id)]))}, counts ${JSON.stringify(report.counts)}`);
    return 1;
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `<!-- Generated by scripts/summary-example.mjs from a local run of dist/index.js; do not edit by hand. -->\n\n${summary}`);
  console.log(`wrote ${out}`);
  return 0;
}

function fail(message) {
  console.error(message);
  process.exit(1);
}
