// The fallback: Redis cannot be reached (at the start, or past the reconnect window mid-run), so the
// worker runs its own static share of the suite instead of claiming from the queue. Every worker lists
// the tests as the controller does and computes the same split (src/sizing/split.ts); worker-index picks its
// share. Results come from the same batch machinery as a claimed batch; the exit code and the job summary
// report them. What this guarantees, and what it cannot, is in README.md, "When Redis is down".
import * as core from '@actions/core';
import { INPUT, OUTPUT } from '../names.js';
import { InputError } from '../errors.js';
import type { WorkerConfig } from '../config.js';
import { listTests } from '../presets/testlist.js';
import { staticShares } from '../sizing/split.js';
import { timingsFromFiles } from '../sizing/timings-file.js';
import { mdCode, mdText } from '../report/escape.js';
import type { BatchEnd, FinalStatus, TestResult } from '../types.js';
import { failedHere } from './results.js';

/** Runs of a test without a result before it is lost: max-attempts' default (the controller's value is in Redis). */
export const FALLBACK_ATTEMPTS = 3;
const SUMMARY_IDS = 50;

/** Runs one batch with the worker's command; null when it was cancelled (a signal). */
export type ShareBatch = (label: string, tests: string[], isolated: boolean, attempt: number) => Promise<{ results: Map<string, TestResult>; end: BatchEnd } | null>;

type Status = Exclude<FinalStatus, 'flaky'>;

/** The test inputs a worker lists its tests from, as the controller does. */
function hasTestInputs(cfg: WorkerConfig): boolean {
  return cfg.tests.trim() !== '' || cfg.testsFile !== '' || cfg.testsCommand !== '' || cfg.runner !== 'custom';
}

/** Why this worker cannot run a static share, or '' when it can. */
export function cannotFallBack(cfg: WorkerConfig): string {
  if (cfg.fallback === 'fail') return `'${INPUT.fallback}' is fail`;
  const missing: string[] = [];
  if (cfg.workerIndex === null) missing.push(`'${INPUT.workerIndex}' and '${INPUT.workers}' (e.g. \${{ strategy.job-index }} and \${{ strategy.job-total }})`);
  if (!hasTestInputs(cfg)) missing.push(`the controller's test inputs ('${INPUT.tests}', '${INPUT.testsFile}', '${INPUT.testsCommand}' or '${INPUT.runner}')`);
  return missing.length > 0 ? `it has no static share without ${missing.join(' and ')}` : '';
}

/**
 * Runs this worker's share, less the tests it already ran (`ranHere`: their final status as Redis
 * recorded it, or their result when Redis could no longer record it). Returns the exit code: 1 when a
 * test run here (before or in the fallback) failed or was lost.
 */
export async function runFallback(cfg: WorkerConfig, why: string, workerId: string, ranHere: Map<string, Status>, runBatch: ShareBatch): Promise<number> {
  const cannot = cannotFallBack(cfg);
  if (cannot) throw new InputError(`${why}; this worker cannot fall back to a static share: ${cannot}`);
  const index = cfg.workerIndex!;
  core.warning(`shardless: Redis is unreachable: ${why}. Worker ${workerId} runs in fallback: static share ${index + 1} of ${cfg.workers}`);
  const all = await listTests(cfg);
  const timings = cfg.timingsFile ? await timingsFromFiles({ costs: new Map(), startMs: null }, cfg.timingsFile, all, cfg.workingDirectory) : undefined;
  const byTimings = timings !== undefined && all.some((id) => timings.costs.has(id));
  const share = staticShares(all, cfg.workers, timings)[index];
  const todo = share.filter((id) => !ranHere.has(id));
  core.info(`fallback: ${all.length} tests split ${byTimings ? 'by the timings of timings-file' : 'by count'} over ${cfg.workers} workers; ` +
    `share ${index + 1} holds ${share.length}, ${share.length - todo.length} of them already run here, ${todo.length} to run`);

  const status = new Map<string, Status>();
  const messages = new Map<string, string>();
  let batches = 0;
  let pending = todo;
  // A batch of the whole share (as a static split runs it); tests without a result run again alone.
  for (let attempt = 1; pending.length > 0 && attempt <= FALLBACK_ATTEMPTS; attempt++) {
    const groups = attempt === 1 ? [pending] : pending.map((id) => [id]);
    const left: string[] = [];
    for (const tests of groups) {
      const ran = await runBatch(`fallback-${++batches}`, tests, attempt > 1, attempt);
      if (!ran) return 1; // cancelled: the signal handler exits
      for (const id of tests) {
        const r = ran.results.get(id);
        if (!r) {
          left.push(id);
          continue;
        }
        status.set(id, r.outcome);
        if (r.message) messages.set(id, r.message);
      }
    }
    pending = left;
  }
  for (const id of pending) status.set(id, 'lost');

  const bad = [...ranHere, ...status].filter(([, s]) => s === 'failed' || s === 'lost');
  core.setOutput(OUTPUT.batches, String(batches));
  core.setOutput(OUTPUT.tests, String(todo.length));
  core.setOutput(OUTPUT.failed, String(bad.length));
  core.setOutput(OUTPUT.fallback, 'true');
  const summary = fallbackSummary({ cfg, why, workerId, all: all.length, share: share.length, byTimings, ranHere, status, messages, bad: bad.map(([id]) => id) });
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(summary).write();
  const count = (s: Status) => [...status.values()].filter((x) => x === s).length;
  core.info(`shardless fallback: ${todo.length} tests run: ${count('passed')} passed, ${count('failed')} failed, ${count('lost')} lost, ${count('skipped')} skipped`);
  if (bad.length > 0) {
    core.setFailed(failedHere(bad, ' (fallback)'));
    return 1;
  }
  return 0;
}

interface SummaryFacts {
  cfg: WorkerConfig;
  why: string;
  workerId: string;
  all: number;
  share: number;
  byTimings: boolean;
  ranHere: Map<string, Status>;
  status: Map<string, Status>;
  messages: Map<string, string>;
  bad: string[];
}

export function fallbackSummary(f: SummaryFacts): string {
  const count = (s: Status) => [...f.status.values()].filter((x) => x === s).length;
  const index = f.cfg.workerIndex!;
  let s = `## shardless: worker ${mdText(f.workerId)} ran in fallback — ${f.bad.length > 0 ? '❌ failed' : '✅ passed'}\n\n`;
  s += `Redis was unreachable: ${mdText(f.why)}. So this worker ran its static share without the queue: ` +
    `**share ${index + 1} of ${f.cfg.workers}** (worker-index ${index}), ${f.share} of the ${f.all} tests, split ${f.byTimings ? 'by the timings of timings-file' : 'by count'}. ` +
    'The other shares are in the summaries of the other workers.\n\n';
  if (f.ranHere.size > 0) s += `Before Redis was lost, this worker ran ${f.ranHere.size} tests; those of its share were not run again.\n\n`;
  s += '| run in fallback | passed | failed | lost | skipped |\n|---:|---:|---:|---:|---:|\n';
  s += `| ${f.status.size} | ${count('passed')} | ${count('failed')} | ${count('lost')} | ${count('skipped')} |\n`;
  if (f.bad.length > 0) {
    s += '\n### Failed or lost tests\n\n';
    for (const id of f.bad.slice(0, SUMMARY_IDS)) {
      const first = (f.messages.get(id) ?? '').split('\n').find((l) => l.trim()) ?? '';
      s += `- ${mdCode(id)} — ${f.status.get(id) ?? f.ranHere.get(id)}${first ? `: ${mdText(first.slice(0, 200))}` : ''}\n`;
    }
    if (f.bad.length > SUMMARY_IDS) s += `\n…and ${f.bad.length - SUMMARY_IDS} more.\n`;
  }
  return s;
}
