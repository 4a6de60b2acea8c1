// End-to-end: the runners' own reports survive batching (README, "Reports"). For vitest, jest and
// playwright, the bundled action runs a suite with a configuration that is not the runner's default
// (test/fixtures/reports/<runner>, copied into a fresh workspace) on one controller and 2 workers, one
// test file a batch; for vitest and jest, a test that fails once runs again alone and cold (retries: 1).
// Each batch must write its own report under reports-dir, named for its worker and batch; then the merge step of the README's example, run as it is written there in the workspace where
// the workers' reports were put together, must give one report of every test and of the coverage of
// every batch of every worker.

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import type { RedisServer } from '../helpers/redis-server.js';
import { ROOT, tempDir } from '../helpers/action.js';
import { Scenario, checkReport, waitFor, type Report, useRedisServer } from './harness.js';

let redis: RedisServer;
useRedisServer((server) => (redis = server));

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
/** Where the README's examples download the workers' reports (and where the workers here write them). */
const REPORTS = 'shardless-reports';

/** The fixture in a fresh workspace (node_modules: this repository's), so nothing is written into the repository. */
function workspace(runner: string): string {
  const dir = tempDir(`shardless-reports-${runner}-`);
  cpSync(join(ROOT, 'test', 'fixtures', 'reports', runner), dir, { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Runs the workspace's suite with the preset on 2 workers, one file a batch; the run must pass, `flaky` passing on its retry. */
async function run(runner: string, dir: string, ids: string[], flaky?: string): Promise<{ s: Scenario; report: Report }> {
  const s = new Scenario(redis, `reports-${runner}`);
  const inputs = { runner, 'working-directory': dir };
  // A long heartbeat-ttl: a runner's start may load both cores, and no worker is meant to be presumed dead.
  const controller = s.controller([], { ...inputs, 'batch-size': '1', timings: 'false', 'heartbeat-ttl': '20', retries: flaky ? '1' : '0' });
  for (const id of ['w1', 'w2']) s.worker(id, { ...inputs, command: '', 'reports-dir': join(dir, REPORTS) });
  await waitFor('the controller to exit', () => controller.exit, 100_000, 100);
  await s.allExited(15_000);
  expect(controller.exit).toEqual({ code: 0, signal: null });
  const report = s.report();
  checkReport(report, s, ids);
  expect(report.counts).toMatchObject({ passed: ids.length - (flaky ? 1 : 0), flaky: flaky ? 1 : 0, failed: 0 });
  if (flaky) expect(s.test(report, flaky).runs.map((r) => [r.outcome, r.isolated])).toEqual([['failed', false], ['passed', true]]);
  return { s, report };
}

/** Batch -> the worker that ran it (each test ran once). */
function batches(report: Report): Map<string, string> {
  const m = new Map<string, string>();
  for (const t of report.tests) for (const r of t.runs) m.set(r.batch, r.worker);
  return m;
}

/** The files of one kind under reports-dir: one per batch, named `<worker>-batch-<batch>-…` (no character upload-artifact refuses). */
function expectOneReportPerBatch(dir: string, kind: string, report: Report): string[] {
  const files = readdirSync(join(dir, REPORTS, kind)).sort();
  const ran = batches(report);
  expect(new Set(ran.values()), 'both workers ran batches').toEqual(new Set(['w1', 'w2']));
  expect(files).toHaveLength(ran.size);
  for (const [batch, worker] of ran) {
    const prefix = `${worker}-batch-${batch.replace(/[^\w.-]/g, '_').slice(0, 40)}-`;
    expect(files.filter((f) => f.startsWith(prefix)), `the report of batch ${batch}`).toHaveLength(1);
  }
  for (const f of files) expect(f).toMatch(/^[\w.-]+$/);
  return files;
}

/** A command of the README, run as written there, in the workspace. */
function readmeStep(command: string, dir: string, env: Record<string, string> = {}): string {
  expect(README, 'the README shows this step').toContain(command);
  return sh(command, dir, env);
}

function sh(command: string, dir: string, env: Record<string, string> = {}): string {
  const r = spawnSync('bash', ['-c', command], { cwd: dir, encoding: 'utf8', env: { ...process.env, CI: 'true', RUNNER_TEMP: '', ...env }, timeout: 60_000 });
  expect(r.status, `${command}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/**
 * The project's own reporter (its configuration's) ran beside shardless's in every batch of the warm
 * runner (each test's first run), on that batch's file: its runs.log.
 */
function expectOwnReporterInEveryWarmBatch(dir: string, report: Report): void {
  const runs = readFileSync(join(dir, 'runs.log'), 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t'));
  const fileOf = new Map(report.tests.map((t) => [t.runs[0].batch, t.id]));
  expect(Object.fromEntries(runs)).toEqual(Object.fromEntries(fileOf));
}

type FileCoverage = { path: string; f: Record<string, number>; s: Record<string, number> };

/** Every function and statement of lib/ has hits: each batch's tests covered a part (lib/again.js: the cold retry's). */
function expectEveryBatchCovered(coverageFinal: string, dir: string): void {
  const map = JSON.parse(readFileSync(coverageFinal, 'utf8')) as Record<string, FileCoverage>;
  const byPath = Object.fromEntries(Object.values(map).map((c) => [c.path, c]));
  expect(Object.keys(byPath).sort()).toEqual(['again.js', 'math.js', 'words.js'].map((f) => join(dir, 'lib', f)));
  for (const c of Object.values(byPath)) {
    expect(Object.values(c.f).length, c.path).toBeGreaterThan(0);
    expect(Object.values(c.f).every((n) => n > 0), `${c.path}: every function run by some batch`).toBe(true);
    expect(Object.values(c.s).every((n) => n > 0), `${c.path}: every statement run by some batch`).toBe(true);
  }
}

test('vitest: each batch writes a blob report with its coverage; --merge-reports gives every test and the coverage of all', async () => {
  const dir = workspace('vitest');
  const ids = ['specs/add.check.js', 'specs/again.check.js', 'specs/deep/lower.check.js', 'specs/mul.check.js', 'specs/upper.check.js'];
  const { report } = await run('vitest', dir, ids, 'specs/again.check.js');
  expectOneReportPerBatch(dir, 'vitest', report);

  expectOwnReporterInEveryWarmBatch(dir, report);

  // The merge writes coverage/ (the configuration's folder, without RUNNER_TEMP).
  expect(existsSync(join(dir, 'coverage'))).toBe(false);
  readmeStep(`npx vitest --merge-reports=${REPORTS}/vitest --coverage`, dir);
  expectEveryBatchCovered(join(dir, 'coverage', 'coverage-final.json'), dir);

  sh(`npx vitest --merge-reports=${REPORTS}/vitest --reporter=json --outputFile=merged.json`, dir);
  const merged = JSON.parse(readFileSync(join(dir, 'merged.json'), 'utf8')) as { testResults: { name: string; status: string }[] };
  // Every run of every batch: the retried file twice (vitest's merge gives both runs of one file the
  // same state), the others once, passed.
  expect(merged.testResults.map((r) => r.name).sort()).toEqual([...ids, 'specs/again.check.js'].map((id) => join(dir, id)).sort());
  for (const r of merged.testResults) if (!r.name.endsWith('again.check.js')) expect(r.status, r.name).toBe('passed');
}, 150_000);

test('jest: each batch writes its coverage JSON, each worker merges its own into one; shardless merge-coverage gives the coverage of all', async () => {
  const dir = workspace('jest');
  const ids = ['specs/add.check.js', 'specs/again.check.js', 'specs/deep/lower.check.js', 'specs/mul.check.js', 'specs/upper.check.js'];
  const { report } = await run('jest', dir, ids, 'specs/again.check.js');
  expectOwnReporterInEveryWarmBatch(dir, report);
  // One report per worker, in a folder of its id (the two workers share this workspace): the batches'
  // own folders are gone once merged into it.
  const workers = new Set(report.tests.flatMap((t) => t.runs.map((r) => r.worker)));
  expect(workers).toEqual(new Set(['w1', 'w2']));
  expect(readdirSync(join(dir, REPORTS, 'jest-coverage')).sort()).toEqual([...workers].sort());
  for (const w of workers) expect(existsSync(join(dir, REPORTS, 'jest-coverage', w, 'coverage-final.json')), w).toBe(true);

  // `npx shardless` is this repository's program here (the workspace's node_modules has no shardless package).
  const step = `npx shardless merge-coverage ${REPORTS}/jest-coverage --out coverage`;
  expect(README).toContain(step);
  const out = sh(step.replace('npx shardless', `node ${join(ROOT, 'bin', 'shardless.js')}`), dir);
  expect(out).toContain('shardless merge-coverage: 2 files merged: 3 source files');
  expectEveryBatchCovered(join(dir, 'coverage', 'coverage-final.json'), dir);
  expect(existsSync(join(dir, 'coverage', 'lcov.info'))).toBe(true);
  expect(existsSync(join(dir, 'coverage', 'lcov-report', 'index.html'))).toBe(true);
}, 150_000);

test('playwright: each batch writes a blob report with its traces; merge-reports gives one HTML report of every test', async () => {
  const dir = workspace('playwright');
  const ids = ['e2e/specs/deep/four.check.js', 'e2e/specs/one.check.js', 'e2e/specs/three.check.js', 'e2e/specs/two.check.js'];
  const { report } = await run('playwright', dir, ids);
  expectOneReportPerBatch(dir, 'playwright', report);

  readmeStep(`npx playwright merge-reports --reporter html ${REPORTS}/playwright`, dir, { PLAYWRIGHT_HTML_OPEN: 'never' });
  expect(existsSync(join(dir, 'playwright-report', 'index.html'))).toBe(true);
  // The HTML report's traces: one per test, each batch's carried over.
  const traces = readdirSync(join(dir, 'playwright-report', 'data')).filter((f) => f.endsWith('.zip'));
  expect(traces).toHaveLength(ids.length);

  sh(`npx playwright merge-reports --reporter json ${REPORTS}/playwright`, dir, { PLAYWRIGHT_JSON_OUTPUT_FILE: 'merged.json' });
  type Suite = { file: string; specs: { title: string; ok: boolean; tests: { results: { attachments: { name: string }[] }[] }[] }[]; suites?: Suite[] };
  const merged = JSON.parse(readFileSync(join(dir, 'merged.json'), 'utf8')) as { suites: Suite[]; stats: { expected: number; unexpected: number } };
  const specs = (ss: Suite[]): Suite['specs'] => ss.flatMap((x) => [...x.specs, ...specs(x.suites ?? [])]);
  const all = specs(merged.suites);
  expect(all.map((x) => x.title).sort()).toEqual(['four', 'one', 'three', 'two']);
  expect(all.every((x) => x.ok)).toBe(true);
  for (const x of all) expect(x.tests[0].results[0].attachments.map((a) => a.name), x.title).toContain('trace');
  expect(merged.stats).toMatchObject({ expected: ids.length, unexpected: 0 });
}, 150_000);
