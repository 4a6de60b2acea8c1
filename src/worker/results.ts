// The results of a batch: what it wrote (its JUnit files, the runner's own costs) or, without JUnit, its
// exit code, turned into a result per test and how the batch ended; and a preset's runner that said it
// found no test, whose tests fail with its words.
import * as core from '@actions/core';
import type { BatchOutcome } from './batch.js';
import { readJUnitFiles } from '../report/junit-read.js';
import { applyCosts, readCosts } from './costs.js';
import type { BatchEnd, TestResult } from '../types.js';
import { PRESETS, type PresetName } from '../presets/index.js';
import { withoutAnsi } from '../report/format.js';

const MESSAGE_MAX = 4_000;

/** Ids in a warning: the first few, and how many more. */
function someIds(ids: string[], max = 10): string {
  return ids.slice(0, max).map((id) => JSON.stringify(id)).join(', ') + (ids.length > max ? `, and ${ids.length - max} more` : '');
}

/** Results of a batch (see resultsOf), with each file's cost as the runner measured it, where it did. */
export function batchResults(out: BatchOutcome, tests: string[], cwd: string): { results: Map<string, TestResult>; end: BatchEnd } {
  const read = resultsOf(out, tests, cwd);
  const { costs, warnings } = readCosts(out.costsFile, tests, cwd);
  for (const w of warnings) core.warning(w);
  applyCosts(read.results, costs);
  return read;
}

/**
 * Results of a batch (README, "Results of a batch"): when the batch wrote JUnit, its testcases, and a
 * test without one has no result (even when none of the batch's has one: a report of other files
 * is no pass); with no JUnit file at all, the exit code rule.
 */
function resultsOf(out: BatchOutcome, tests: string[], cwd: string): { results: Map<string, TestResult>; end: BatchEnd } {
  if (out.junitFiles.length > 0) {
    const { results, warnings } = readJUnitFiles(out.junitFiles, tests, cwd);
    for (const w of warnings) core.warning(w);
    for (const r of results.values()) {
      r.message = r.message.slice(0, MESSAGE_MAX);
      r.timed = true;
    }
    const missing = tests.filter((id) => !results.has(id));
    if (missing.length > 0 && !out.timedOut && !out.signal) {
      core.warning(`no testcase for ${missing.length} of the batch's ${tests.length} tests in the JUnit file${out.junitFiles.length === 1 ? '' : 's'} ` +
        `it wrote (${out.junitFiles.join(', ')}), so they have no result (each runs again alone, up to max-attempts): ${someIds(missing)}`);
    }
    return { results, end: out.timedOut ? 'timed-out' : out.signal || out.exitCode === null ? 'killed' : 'finished' };
  }
  if (out.usesJUnit && !out.timedOut && !out.signal && out.exitCode !== null) {
    core.warning(`the command uses JUnit ({junit} or the junit input) but wrote no JUnit file: exit code ${out.exitCode} decides the batch's results`);
  }
  const results = new Map<string, TestResult>();
  if (out.timedOut) return { results, end: 'timed-out' };
  if (out.signal || out.exitCode === null) return { results, end: 'killed' };
  const each = Math.round(out.durationMs / tests.length);
  if (out.exitCode === 0) {
    for (const id of tests) results.set(id, { outcome: 'passed', durationMs: each, message: '' });
    return { results, end: 'finished' };
  }
  if (tests.length === 1) {
    results.set(tests[0], { outcome: 'failed', durationMs: out.durationMs, message: `command exited with code ${out.exitCode}` });
    return { results, end: 'finished' };
  }
  return { results, end: 'split' };
}

/**
 * A preset's runner that said, in the batch's output, that it found no test in the files it was given:
 * the batch's tests without a JUnit result fail with its words (an exit 0 would pass them, and no result
 * would requeue them until lost).
 */
export function runnerFoundNoTests(runner: PresetName, outputTail: string, tests: string[], results: Map<string, TestResult>): void {
  const text = withoutAnsi(outputTail);
  const found = PRESETS[runner].noTests?.exec(text);
  if (!found) return;
  const words = text.slice(found.index).split(/\r?\n/).map((l) => l.trim()).filter(Boolean).slice(0, 4).join('\n');
  for (const id of tests) {
    const r = results.get(id);
    if (r?.timed) continue; // the runner's own result for it
    results.set(id, { outcome: 'failed', durationMs: r?.durationMs ?? 0, message: `${runner} found no test to run in ${id}; it said:\n${words}` });
  }
}

/** Why a worker fails: the tests run here that ended failed or lost, the first ten named. */
export function failedHere(bad: [string, string][], where = ''): string {
  const list = bad.slice(0, 10).map(([t, s]) => `${t} (${s})`).join(', ');
  return `${bad.length} test${bad.length === 1 ? '' : 's'} run here ended failed or lost${where}: ${list}${bad.length > 10 ? ', ...' : ''}`;
}
