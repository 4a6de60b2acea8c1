// The JSON report (its format is the contract of README.md, "The report"): the run's data from Redis
// folded into one entry per test, with its runs, and the counts and status of the run.
import type { HistoryEntry, Report, RunData, TestStatus } from '../types.js';

type ReportTest = Report['tests'][number];
type ReportRun = ReportTest['runs'][number];

export function buildReport(data: RunData): Report {
  const runsByTest = groupRuns(data.history);
  const tests = data.tests.map(({ id, status }): ReportTest => {
    const runs = runsByTest.get(id) ?? [];
    return { id, status: status ?? 'not-run', durationMs: testDuration(runs), runs };
  });
  const counts = countStatuses(tests);
  return {
    version: 1,
    queue: data.queue,
    run: data.run,
    status: reportStatus(data, counts),
    durationMs: Math.max(0, (data.completedAtMs ?? data.nowMs) - data.seededAtMs),
    counts,
    tests,
    workers: data.workers.map((w) => ({
      id: w.id,
      batches: w.batches,
      tests: w.tests,
      busyMs: w.busyMs,
      lostBatches: w.lostBatches,
      state: w.state === 'dead' || w.state === 'cancelled' ? w.state : 'finished',
    })),
  };
}

function groupRuns(history: HistoryEntry[]): Map<string, ReportRun[]> {
  // sort() is stable, so entries recorded in the same millisecond keep their array order.
  const sorted = [...history].sort((a, b) => a.e - b.e);
  const byTest = new Map<string, ReportRun[]>();
  for (const h of sorted) {
    // A run without a result has no runner time: show how long its batch ran until it was given up.
    const noResult = h.o === 'lost' || h.o === 'timeout' || h.o === 'split';
    const durationMs = noResult && !h.d ? Math.max(0, h.e - h.s) : h.d;
    const run: ReportRun = { worker: h.w, batch: h.b, isolated: h.i, outcome: h.o, durationMs, message: h.m };
    const list = byTest.get(h.t);
    if (list) list.push(run);
    else byTest.set(h.t, [run]);
  }
  return byTest;
}

/** Duration of the last run that produced a result: lost runs say nothing about the test itself. */
function testDuration(runs: ReportRun[]): number {
  for (let i = runs.length - 1; i >= 0; i--) {
    const o = runs[i].outcome;
    if (o === 'passed' || o === 'failed' || o === 'skipped') return runs[i].durationMs;
  }
  return 0;
}

function countStatuses(tests: ReportTest[]): Report['counts'] {
  const counts = { total: tests.length, passed: 0, failed: 0, flaky: 0, lost: 0, skipped: 0, notRun: 0 };
  const key: Record<TestStatus, Exclude<keyof typeof counts, 'total'>> = {
    passed: 'passed',
    failed: 'failed',
    flaky: 'flaky',
    lost: 'lost',
    skipped: 'skipped',
    'not-run': 'notRun',
  };
  for (const t of tests) counts[key[t.status]]++;
  return counts;
}

function reportStatus(data: RunData, counts: Report['counts']): Report['status'] {
  if (data.state !== 'complete' || counts.notRun > 0) return 'incomplete';
  return counts.failed > 0 || counts.lost > 0 ? 'failed' : 'passed';
}
