// End-to-end: `shardless run` (bin/shardless.js -> dist/cli/index.js) on a throwaway redis-server it
// starts itself: a controller and workers as child processes, the summary printed as text, the
// controller's exit status, Ctrl-C, and nothing left running afterwards (redis-server, controller,
// workers, batches). Also a real vitest suite in a temporary project.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, onTestFailed, test } from 'vitest';
import { FAKE_RUNNER, ROOT, isAlive, readEvents, removeTempDirs, tempDir } from '../helpers/action.js';
import { waitFor } from '../helpers/redis-server.js';
import type { Report } from './harness.js';

const BIN = join(ROOT, 'bin', 'shardless.js');

interface CliRun {
  proc: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: CliRun[] = [];

/** Host variables the CLI must not see (a CI runner's, or this vitest's own, which the inner vitest would read). */
const SCRUB = [/^GITHUB_/, /^INPUT_/, /^RUNNER_/, /^ACTIONS_/, /^SHARDLESS_/, /^REDIS_URL$/, /^FAKE_STATE_DIR$/, /^VITEST/, /^TINYPOOL/];

/** `shardless <args>` (bin/shardless.js) in the repository, or `bash -c <line>` in `cwd` with `shardless` on the PATH. */
function cli(args: string[], env: Record<string, string> = {}, shell?: { line: string; cwd: string }): CliRun {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'index.js'))) throw new Error('dist/cli/index.js does not exist: run `npm run build` first');
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !SCRUB.some((re) => re.test(k))) base[k] = v;
  let binDir = '';
  if (shell) {
    binDir = tempDir('shardless-bin-');
    symlinkSync(BIN, join(binDir, 'shardless'));
  }
  const proc = shell
    ? spawn('bash', ['-c', shell.line], { cwd: shell.cwd, env: { ...base, PATH: `${binDir}:${base.PATH ?? ''}`, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const run: CliRun = {
    proc,
    output: () => out,
    exited: new Promise((res) => proc.once('close', (code, signal) => res({ code, signal }))),
  };
  started.push(run);
  onTestFailed(() => console.log(`===== shardless output =====\n${out}`));
  return run;
}

afterEach(() => {
  for (const r of started.splice(0)) if (r.proc.exitCode === null && r.proc.signalCode === null) r.proc.kill('SIGKILL');
});
afterAll(removeTempDirs);

/** Pids of the processes whose command line contains `needle` (this test's process excepted). */
function processesWith(needle: string): { pid: number; cmd: string }[] {
  const res: { pid: number; cmd: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cmd.includes(needle) && isAlive(Number(d))) res.push({ pid: Number(d), cmd });
    } catch {
      // gone
    }
  }
  return res;
}

/** The throwaway redis-server the CLI said it started. */
function redisOf(output: string): { port: string; pid: number } {
  const m = /started \S*(?:redis|valkey)-server on 127\.0\.0\.1:(\d+) \(pid (\d+)\)/.exec(output);
  expect(m, 'the CLI says which redis-server it started').not.toBeNull();
  return { port: m![1], pid: Number(m![2]) };
}

/** Nothing of the run is left: redis-server, its watchdog, the controller and workers, their batches. */
async function expectNothingLeft(output: string, runId: string, stateDir?: string): Promise<void> {
  const { port, pid } = redisOf(output);
  const pids = stateDir ? readEvents(stateDir).pids : [];
  // A process that has been signalled may take a moment to go.
  await waitFor('every process of the run to be gone', () =>
    processesWith(`127.0.0.1:${port}`).length === 0 && processesWith(runId).length === 0 && !isAlive(pid) && pids.every((p) => !isAlive(p)), 5_000, 50)
    .catch(() => {
      throw new Error(`left behind:\n${[...processesWith(`127.0.0.1:${port}`), ...processesWith(runId)].map((p) => `${p.pid} ${p.cmd}`).join('\n')}` +
        `${pids.filter(isAlive).map((p) => `\nbatch pid ${p}`).join('')}`);
    });
}

const fakeCommand = ['node', FAKE_RUNNER, '--junit', '{junit}', '{tests}'];

describe('shardless run', () => {
  test('3 workers on a throwaway Redis: exits 1 on a failing test, prints the summary, leaves nothing behind', async () => {
    const dir = tempDir('shardless-cli-');
    const stateDir = join(dir, 'state');
    const runId = `cli-e2e-${process.pid}-${Date.now()}`;
    const tests = ['suite/pass-a.test', 'suite/slow300-b.test', 'suite/fail-c.test', 'suite/skip-d.test', 'suite/pass-e.test', 'suite/slow200-f.test',
      'suite dir/pass-with space.test'];
    const run = cli(['run', '--workers', '3', '--run-id', runId, '--batch-size', '2', '--report-output', join(dir, 'report.json'),
      ...tests.flatMap((t) => ['--tests', t]), '--', ...fakeCommand], { FAKE_STATE_DIR: stateDir });
    const exit = await run.exited;
    const out = run.output();
    expect(exit).toEqual({ code: 1, signal: null });

    // The summary, as text, after the prefixed output of the controller and the workers.
    const summaryAt = out.indexOf(`\nshardless: tests ${runId} — ❌ failed\n`);
    expect(summaryAt, 'the summary heading').toBeGreaterThan(0);
    const summary = out.slice(summaryAt);
    expect(summary).toMatch(/^ {2}total +passed +failed +flaky +lost +skipped +not run$/m);
    expect(summary).toMatch(/^ +7 +5 +1 +0 +0 +1 +0$/m);
    expect(summary).toContain('- suite/fail-c.test — expected "suite/fail-c.test" to pass');
    expect(summary).not.toContain('mermaid');
    // The counts line, then the verdict.
    expect(summary).toMatch(/\nshardless: 7 tests: 5 passed, 1 failed, 0 flaky, 0 lost, 1 skipped, 0 not run; report .*report\.json\n/);
    expect(summary.trimEnd().split('\n').pop()).toMatch(/^shardless run: failed: 1 test failed: suite\/fail-c\.test \(controller exit 1; workers: w1 \d, w2 \d, w3 \d\)$/);
    // Prefixed output of each process, and no workflow commands.
    for (const name of ['controller', 'w1', 'w2', 'w3']) expect(out).toMatch(new RegExp(`^\\[${name}\\] +\\S`, 'm'));
    expect(out).not.toMatch(/^(\[\S+\] +)?::/m);

    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    expect(report.run).toBe(runId);
    expect(report.counts).toEqual({ total: 7, passed: 5, failed: 1, flaky: 0, lost: 0, skipped: 1, notRun: 0 });
    expect(report.tests.map((t) => t.id).sort()).toEqual([...tests].sort());
    expect(report.workers.map((w) => w.id).sort()).toEqual(['w1', 'w2', 'w3']);
    // The batches ran the command the words after -- make, with the ids intact.
    const runners = readEvents(stateDir).runners;
    expect(runners.flatMap((r) => r.ids).sort()).toEqual([...tests].sort());
    expect(new Set(runners.map((r) => r.worker))).toEqual(new Set(report.workers.filter((w) => w.tests > 0).map((w) => w.id)));

    await expectNothingLeft(out, runId, stateDir);
  });

  test('Ctrl-C: SIGINT goes to the children, the summary says what did not run, exit 130, nothing left', async () => {
    const dir = tempDir('shardless-cli-');
    const stateDir = join(dir, 'state');
    const runId = `cli-sigint-${process.pid}-${Date.now()}`;
    const run = cli(['run', '--workers', '2', '--run-id', runId, '--batch-size', '1', '--report-output', join(dir, 'report.json'),
      '--tests', 'pass-a', '--tests', 'hang-b', '--tests', 'slow30000-c', '--tests', 'pass-d', '--', ...fakeCommand], { FAKE_STATE_DIR: stateDir });
    // Both workers busy: one in a test that ignores SIGINT/SIGTERM (and left a grandchild), one in a slow one.
    await waitFor('both long tests to start', () => {
      const ev = readEvents(stateDir);
      return ev.runners.some((r) => r.started.includes('hang-b') && r.grandchildren.length > 0) && ev.runners.some((r) => r.started.includes('slow30000-c'));
    }, 20_000, 50);
    const t0 = Date.now();
    run.proc.kill('SIGINT');
    const exit = await run.exited;
    const out = run.output();
    expect(exit).toEqual({ code: 130, signal: null });
    expect(Date.now() - t0, 'stops within seconds').toBeLessThan(15_000);
    expect(out).toContain('shardless run: SIGINT: stopping the controller and the workers');
    expect(out).toMatch(/^\[w\d\] +handed 1 test back to the queue$/m);
    expect(out).toContain(`shardless: tests ${runId} — ⚠️ incomplete`);
    expect(out).toMatch(/^Not run:\n\n(- .*\n)*- hang-b\n/m);
    expect(out.trimEnd().split('\n').pop()).toMatch(/^shardless run: interrupted by SIGINT/);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    expect(report.status).toBe('incomplete');
    expect(report.tests.find((t) => t.id === 'hang-b')?.status).toBe('not-run');
    await expectNothingLeft(out, runId, stateDir);
  });

  test('default sizing: 12 tests over 4 workers go in 4 batches of 3 (not 10 and 2), so every worker gets work', async () => {
    const dir = tempDir('shardless-cli-');
    const stateDir = join(dir, 'state');
    const runId = `cli-sizing-${process.pid}-${Date.now()}`;
    const tests = Array.from({ length: 12 }, (_, i) => `pass-${String(i + 1).padStart(2, '0')}`);
    const run = cli(['run', '--workers', '4', '--run-id', runId, ...tests.flatMap((t) => ['--tests', t]), '--', ...fakeCommand], { FAKE_STATE_DIR: stateDir });
    const exit = await run.exited;
    const out = run.output();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(out).toContain(`shardless run: run ${runId}, 12 tests in batches of up to 3, 4 workers`);
    const batches = readEvents(stateDir).runners.map((r) => r.ids);
    expect(batches.map((b) => b.length)).toEqual([3, 3, 3, 3]);
    expect(batches.flat().sort()).toEqual(tests);
    await expectNothingLeft(out, runId, stateDir);
  });

  /** A tiny vitest project in a temporary directory; node_modules links to ours, so npx finds vitest. */
  function vitestProject(include: string): { dir: string; project: string } {
    const dir = tempDir('shardless-vitest-');
    const project = join(dir, 'project');
    mkdirSync(project);
    symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'), 'dir');
    writeFileSync(join(project, 'vitest.config.mjs'),
      `export default { cacheDir: ${JSON.stringify(join(dir, 'vite-cache'))}, test: { root: ${JSON.stringify(project)}, include: [${JSON.stringify(include)}] } };\n`);
    return { dir, project };
  }

  test("the README's example, as written, on a vitest project with 4 test files", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = /`(shardless run --workers 4 [^`]+)`/.exec(readme)?.[1];
    expect(example, 'the README gives a `shardless run --workers 4 ...` example').toBeDefined();
    // The same example in docs/cli.md and in `shardless --help`.
    expect(readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8')).toContain(`\n${example}\n`);
    expect(spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' }).stdout).toContain(`\n  ${example}\n`);
    const { project } = vitestProject('test/**/*.test.ts');
    mkdirSync(join(project, 'test'));
    const names = ['adds', 'concats', 'maps', 'sorts'];
    for (const n of names) writeFileSync(join(project, 'test', `${n}.test.ts`), `import { expect, test } from 'vitest';\ntest('${n}', () => expect(${JSON.stringify(n)}.length).toBeGreaterThan(3));\n`);
    const run = cli([], {}, { line: example!, cwd: project });
    const exit = await run.exited;
    const out = run.output();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(out).toContain('4 tests in batches of up to 1, 4 workers');
    expect(out).toMatch(/\nshardless: 4 tests: 4 passed, 0 failed, 0 flaky, 0 lost, 0 skipped, 0 not run/);
    for (const n of names) expect(out).toContain(`test/${n}.test.ts`);
    expect(out.trimEnd().split('\n').pop()).toMatch(/^shardless run: passed/);
  }, 60_000);

  test('a real vitest suite: 3 files, one failing, over 3 workers', async () => {
    const { dir, project } = vitestProject('*.test.mjs');
    writeFileSync(join(project, 'adds.test.mjs'), `import { expect, test } from 'vitest';\ntest('adds', () => expect(1 + 1).toBe(2));\n`);
    writeFileSync(join(project, 'concats.test.mjs'),
      `import { expect, test } from 'vitest';\ntest('concats', () => expect('a' + 'b').toBe('ab'));\ntest('is long', () => expect('abc').toHaveLength(3));\n`);
    writeFileSync(join(project, 'broken.test.mjs'), `import { expect, test } from 'vitest';\ntest('is broken', () => expect(1).toBe(2));\n`);

    const runId = `cli-vitest-${process.pid}-${Date.now()}`;
    const run = cli(['run', '--workers', '3', '--run-id', runId, '--working-directory', project, '--batch-size', '1',
      '--report-output', join(dir, 'report.json'),
      '--tests', 'adds.test.mjs', '--tests', 'concats.test.mjs', '--tests', 'broken.test.mjs',
      '--', 'npx', 'vitest', 'run', '--reporter=junit', '--outputFile={junit}', '{tests}']);
    const exit = await run.exited;
    const out = run.output();
    expect(exit).toEqual({ code: 1, signal: null });
    expect(out).toContain(`shardless: tests ${runId} — ❌ failed`);
    expect(out).toMatch(/^ +3 +2 +1 +0 +0 +0 +0$/m);
    expect(out).toContain('- broken.test.mjs — expected 1 to be 2');
    expect(out).toMatch(/\nshardless: 3 tests: 2 passed, 1 failed, 0 flaky, 0 lost, 0 skipped, 0 not run; report /);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;
    expect(Object.fromEntries(report.tests.map((t) => [t.id, t.status]))).toEqual({
      'adds.test.mjs': 'passed', 'concats.test.mjs': 'passed', 'broken.test.mjs': 'failed',
    });
    // Results came from vitest's JUnit (a duration per test), not from the exit code alone.
    expect(report.tests.find((t) => t.id === 'broken.test.mjs')!.runs[0].message).toMatch(/expected 1 to be 2/);
    await expectNothingLeft(out, runId);
  }, 50_000);
});
