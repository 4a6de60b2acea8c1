// Shared set-up of the end-to-end scenarios: one run (run id, queue, fake-runner state dir, report path) per
// test, its controller and workers started through the bundled action, their output printed when the test
// fails, and report checks that hold for every run (docs/protocol.md, "The JSON report").

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, onTestFailed, onTestFinished } from 'vitest';
import { RedisServer, expectAllKeysExpire, expectKeyExpires, scanKeys, useRedisServer, waitFor } from '../helpers/redis-server.js';
import {
  type ActionRun,
  DIST,
  ROOT,
  cleanupActions,
  dumpOutputs,
  fakeCommand,
  makeStateDir,
  readEvents,
  startAction,
  tempDir,
} from '../helpers/action.js';

// The Redis set-up and checks, here too for the scenarios' files.
export { expectAllKeysExpire, expectKeyExpires, scanKeys, useRedisServer, waitFor };

export type Outcome = 'passed' | 'failed' | 'skipped' | 'lost' | 'timeout' | 'split';
export type Status = 'passed' | 'failed' | 'flaky' | 'lost' | 'skipped' | 'not-run';

export interface ReportRun {
  worker: string;
  batch: string;
  isolated: boolean;
  outcome: Outcome;
  durationMs: number;
  message: string;
}
export interface ReportTest {
  id: string;
  status: Status;
  durationMs: number;
  runs: ReportRun[];
}
export interface ReportWorker {
  id: string;
  batches: number;
  tests: number;
  busyMs: number;
  lostBatches: number;
  state: 'finished' | 'dead' | 'cancelled';
}
export interface Report {
  version: number;
  queue: string;
  run: string;
  status: 'passed' | 'failed' | 'incomplete';
  durationMs: number;
  counts: { total: number; passed: number; failed: number; flaky: number; lost: number; skipped: number; notRun: number };
  tests: ReportTest[];
  workers: ReportWorker[];
}

let seq = 0;

export function requireDist(): void {
  if (!existsSync(DIST)) throw new Error(`${DIST} does not exist: run \`npm run build\` first`);
}

export class Scenario {
  readonly runId: string;
  readonly queue: string;
  readonly stateDir = makeStateDir();
  readonly dir = tempDir('shardless-e2e-');
  readonly reportPath = join(this.dir, 'report.json');
  readonly runs: ActionRun[] = [];

  constructor(readonly redis: RedisServer, name: string) {
    requireDist();
    const tag = `${name}-${process.pid}-${Date.now().toString(36)}-${++seq}`;
    this.runId = `run-${tag}`;
    this.queue = `q-${tag}`;
    const dump = () => {
      console.log(`\n##### ${name}: outputs of the actions #####\n${dumpOutputs(this.runs)}`);
      console.log(`##### fake runner events #####\n${readEvents(this.stateDir).lines.join('\n')}`);
      if (existsSync(this.reportPath)) console.log(`##### report #####\n${readFileSync(this.reportPath, 'utf8')}`);
      for (const r of this.runs) console.log(`##### ${r.name}: outputs ${JSON.stringify(r.outputs())}`);
    };
    // E2E_DEBUG=1 prints everything for passing tests too.
    if (process.env.E2E_DEBUG) onTestFinished(dump);
    else onTestFailed(dump);
  }

  common(): Record<string, string> {
    return { 'redis-url': this.redis.url, 'run-id': this.runId, queue: this.queue, 'working-directory': ROOT };
  }

  controller(tests: string[], inputs: Record<string, string> = {}, env: Record<string, string> = {}): ActionRun {
    const run = startAction(
      {
        mode: 'controller',
        ...this.common(),
        tests: tests.join('\n'),
        'heartbeat-ttl': '3',
        'no-worker-timeout': '60',
        timeout: '120',
        'report-output': this.reportPath,
        ...inputs,
      },
      { FAKE_STATE_DIR: this.stateDir, ...env },
      { name: 'controller' },
    );
    this.runs.push(run);
    return run;
  }

  worker(id: string, inputs: Record<string, string> = {}, env: Record<string, string> = {}): ActionRun {
    const run = startAction(
      // reports-dir in the scenario's folder: nothing a preset's runner reports lands in the repository.
      { mode: 'worker', ...this.common(), command: fakeCommand(true), 'worker-id': id, 'reports-dir': join(this.dir, 'reports'), ...inputs },
      { FAKE_STATE_DIR: this.stateDir, ...env },
      { name: `worker ${id}` },
    );
    this.runs.push(run);
    return run;
  }

  events() {
    return readEvents(this.stateDir);
  }

  /** Waits until worker `worker` has started a test matching `match`; returns that runner. */
  async startedBy(worker: string, match: (id: string) => boolean, timeoutMs = 20_000) {
    const r = await waitFor(`worker ${worker} to start a matching test`, () => this.events().started(worker, match)[0], timeoutMs);
    return r;
  }

  /** Waits for every action of this scenario to exit. */
  async allExited(timeoutMs = 60_000): Promise<void> {
    await waitFor('every action to exit', () => this.runs.every((r) => !r.running()), timeoutMs, 100);
  }

  report(): Report {
    return JSON.parse(readFileSync(this.reportPath, 'utf8')) as Report;
  }

  test(report: Report, id: string): ReportTest {
    const t = report.tests.find((x) => x.id === id);
    if (!t) throw new Error(`test ${JSON.stringify(id)} is not in the report`);
    return t;
  }
}

export async function cleanup(): Promise<void> {
  await cleanupActions();
}

/** What holds for every complete run: each seeded test exactly once, counts that add up, runs well formed. */
export function checkReport(report: Report, s: Scenario, seeded: string[]): void {
  expect(report.version).toBe(1);
  expect(report.queue).toBe(s.queue);
  expect(report.run).toBe(s.runId);
  expect(typeof report.durationMs).toBe('number');
  expect(report.durationMs).toBeGreaterThanOrEqual(0);
  const ids = report.tests.map((t) => t.id);
  expect([...ids].sort()).toEqual([...seeded].sort());
  expect(new Set(ids).size).toBe(ids.length);
  const count = (st: Status) => report.tests.filter((t) => t.status === st).length;
  expect(report.counts).toEqual({
    total: seeded.length,
    passed: count('passed'),
    failed: count('failed'),
    flaky: count('flaky'),
    lost: count('lost'),
    skipped: count('skipped'),
    notRun: count('not-run'),
  });
  for (const t of report.tests) {
    expect(['passed', 'failed', 'flaky', 'lost', 'skipped', 'not-run']).toContain(t.status);
    for (const r of t.runs) {
      expect(['passed', 'failed', 'skipped', 'lost', 'timeout', 'split']).toContain(r.outcome);
      expect(typeof r.isolated).toBe('boolean');
      expect(typeof r.worker).toBe('string');
      expect(typeof r.batch).toBe('string');
    }
    // A final test has at least one run; a passed/failed/skipped one ends with that outcome.
    if (t.status !== 'not-run') expect(t.runs.length).toBeGreaterThan(0);
    if (t.status === 'passed' || t.status === 'failed' || t.status === 'skipped') expect(t.runs.at(-1)!.outcome).toBe(t.status);
    // Rule 4: a test run from the requeue runs alone, so every run after the first is isolated, except the
    // late result of a reclaimed lease (rule 3), which follows that same batch's `lost` run.
    t.runs.forEach((r, i) => {
      if (i === 0 || r.isolated) return;
      const lateResult = t.runs.slice(0, i).some((p) => p.outcome === 'lost' && p.worker === r.worker && p.batch === r.batch);
      expect(lateResult, `${t.id}: run ${i + 1} is isolated, or the late result of a reclaimed batch`).toBe(true);
    });
  }
  for (const w of report.workers) expect(['finished', 'dead', 'cancelled']).toContain(w.state);
}

/** The controller's count outputs, as the report says they should be. */
export function expectCountOutputs(outputs: Record<string, string>, report: Report, s: Scenario): void {
  const c = report.counts;
  expect(outputs).toMatchObject({
    total: String(c.total),
    passed: String(c.passed),
    failed: String(c.failed),
    flaky: String(c.flaky),
    lost: String(c.lost),
    skipped: String(c.skipped),
    'not-run': String(c.notRun),
    report: s.reportPath,
  });
  const list = (st: Status) => report.tests.filter((t) => t.status === st).map((t) => t.id).sort();
  const split = (v: string | undefined) => (v ?? '').split('\n').filter(Boolean).sort();
  expect(split(outputs['failed-tests'])).toEqual(list('failed'));
  expect(split(outputs['flaky-tests'])).toEqual(list('flaky'));
  expect(split(outputs['lost-tests'])).toEqual(list('lost'));
}

/** The last non-empty line of an output. */
export function lastLine(text: string): string {
  return text.trim().split('\n').at(-1) ?? '';
}
