// The controller: reset the run under a fresh epoch, seed the queue, publish the settings, then tick
// (reap dead workers, log progress) until the run is complete, timed out, workerless or cancelled;
// finally write the report, the summary and the outputs.
import * as core from '@actions/core';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ControllerConfig } from '../config.js';
import { Queue, RedisUnreachableError, maskUrl, closeRedis, connectRedis, gaveUp, runKeys, type Progress, type RedisClient } from '../queue/index.js';
import { buildReport, countsLine, emitAnnotations, exitReason, renderNotCoordinated, renderSummary, reportOutputs, writeReport, type NotCoordinated, type RunSummary } from '../report/index.js';
import { previousKeys, testsToRerun } from '../queue/rerun.js';
import { listTests } from '../presets/testlist.js';
import { learn, plan, type Timings } from '../sizing/costmodel.js';
import { loadTimings, saveTimings } from '../sizing/timings.js';
import { timingsFromFiles, writeTimingsFile } from '../sizing/timings-file.js';
import { INPUT, OUTPUT } from '../names.js';

const PROGRESS_EVERY_MS = 5_000;
const ABORT_GRACE_MS = 5_000;
/** A tick's script call that fails is retried (backoff up to TICK_RETRY_MAX_MS) for TICK_GIVE_UP_MS, then ends the run. */
const TICK_RETRY_MAX_MS = 5_000;
const TICK_GIVE_UP_MS = 60_000;
/** The tick once nothing is queued: the run ends with a batch's report, and the controller's report follows within this. */
const TAIL_TICK_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const formatSeconds = (ms: number) => (ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.max(1, Math.round(ms / 1000))} s`);

/** A tick's figures, as data: the progress log line says the same to a reader. */
export interface RunProgress {
  done: number;
  total: number;
  running: number;
  queued: number;
  requeued: number;
  live: number;
  /** Estimated work left per live worker, with timings on; else null. */
  leftMs: number | null;
}

/** The end of the run: what its summary shows, the counts line, and why it fails (null: it passes). */
export interface RunEnd {
  summary: RunSummary;
  /** '' when there is no report. */
  counts: string;
  reason: string | null;
}

/** What the controller tells its caller as the run goes (the command line shows it; the action needs none). */
export interface ControllerHooks {
  progress?(p: RunProgress): void;
  /**
   * Called before the last log lines (counts, reason). With it, the caller shows the summary where
   * there is no GITHUB_STEP_SUMMARY, rather than the controller logging the markdown.
   */
  ended?(end: RunEnd): void;
}

/** `about 4 s left`, or '' without an estimate. */
export function timeLeft(p: RunProgress): string {
  return p.leftMs === null ? '' : `about ${formatSeconds(p.leftMs)} left`;
}

function progressLine(p: RunProgress): string {
  const left = timeLeft(p);
  return `${p.done}/${p.total} done, ${p.running} running, ${p.queued} queued, ${p.requeued} requeued, ${p.live} live workers${left ? `, ${left}` : ''}`;
}

/**
 * A call of the controller's tick (reap, abort): a failure (Redis unreachable past the reconnect window,
 * a script error) is logged and retried with backoff, since the run's state in Redis is intact and the
 * workers keep going; one that lasts TICK_GIVE_UP_MS ends the run with that error. A corrupt run state
 * does not heal by waiting, nor does a connection that gave up (`ended`): either ends the run at once.
 */
export async function retryTick<T>(what: string, call: () => Promise<T>, giveUpMs = TICK_GIVE_UP_MS, ended: () => boolean = () => false): Promise<T> {
  const since = Date.now();
  for (let delay = 200; ; delay = Math.min(delay * 2, TICK_RETRY_MAX_MS)) {
    try {
      return await call();
    } catch (e) {
      const msg = (e as Error).message;
      const failingMs = Date.now() - since;
      if (/corrupt run state/.test(msg) || ended()) throw e;
      if (failingMs >= giveUpMs) throw new Error(`the controller's ${what} kept failing for ${formatSeconds(failingMs)}: ${msg}`);
      core.warning(`the controller's ${what} failed (${msg}); retrying in ${formatSeconds(delay)}`);
      await sleep(Math.min(delay, giveUpMs - failingMs));
    }
  }
}

export async function runController(cfg: ControllerConfig, hooks: ControllerHooks = {}): Promise<number> {
  const all = await listTests(cfg);
  let redis: RedisClient;
  try {
    redis = await connectRedis(cfg, { name: 'shardless-controller' });
  } catch (e) {
    if (e instanceof RedisUnreachableError) return notCoordinated(cfg, all.length, (e as Error).message, hooks);
    throw e;
  }
  try {
    return await control(cfg, redis, all, hooks);
  } catch (e) {
    if (gaveUp(redis)) return notCoordinated(cfg, all.length, `Redis stayed unreachable past the reconnect window during the run (${(e as Error).message})`, hooks);
    throw e;
  } finally {
    await closeRedis(redis);
  }
}

/**
 * Redis unreachable: no queue, no report. Workers that cannot reach it either run their static shares
 * (README, "When Redis is down") and report through their own exit codes and summaries. The controller
 * says so, and fails only with `fallback: fail`.
 */
async function notCoordinated(cfg: ControllerConfig, total: number, why: string, hooks: ControllerHooks): Promise<number> {
  const fail = cfg.fallback === 'fail';
  core.setOutput(OUTPUT.total, String(total));
  core.setOutput(OUTPUT.report, '');
  core.setOutput(OUTPUT.junit, '');
  core.setOutput(OUTPUT.fallback, 'true');
  const n: NotCoordinated = { queue: cfg.queue, run: cfg.runId, why, total, fail };
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(renderNotCoordinated(n)).write();
  const line = `the controller could not coordinate run ${cfg.runId}: ${why}`;
  const reason = `${line} (${INPUT.fallback}: fail)`;
  hooks.ended?.({ summary: { notCoordinated: n }, counts: '', reason: fail ? reason : null });
  if (fail) {
    core.setFailed(reason);
    return 1;
  }
  core.warning(`${line}; the workers run their static shares (${INPUT.fallback}: static)`);
  return 0;
}

async function selectTests(cfg: ControllerConfig, redis: RedisClient, all: string[]): Promise<string[]> {
  if (!previousKeys(cfg)) return all;
  const rerun = await testsToRerun(redis, cfg, all);
  if (rerun === null) {
    core.info(`Attempt ${cfg.runAttempt}: the results of attempt ${cfg.runAttempt - 1} are no longer in Redis, so every test runs`);
    return all;
  }
  core.info(`Attempt ${cfg.runAttempt}: re-running the ${rerun.length} of ${all.length} tests that did not pass in attempt ${cfg.runAttempt - 1}`);
  return rerun;
}

async function control(cfg: ControllerConfig, redis: RedisClient, all: string[], hooks: ControllerHooks): Promise<number> {
  const keys = runKeys(cfg.repository, cfg.queue, cfg.runId);
  const queue = new Queue(redis, keys);
  const ids = await selectTests(cfg, redis, all);
  const epoch = randomUUID();
  core.info(`shardless controller: run ${cfg.runId}, queue ${cfg.queue}, ${ids.length} tests, Redis ${maskUrl(cfg.redisUrl)}`);
  let timings: Timings = { costs: new Map(), startMs: null };
  if (cfg.timings) {
    timings = await loadTimings(redis, cfg.repository, cfg.queue, ids);
    if (cfg.timingsFile) timings = await timingsFromFiles(timings, cfg.timingsFile, ids, cfg.workingDirectory);
    core.info(`timings: ${timings.costs.size} of ${ids.length} tests known, start cost ${timings.startMs === null ? 'unknown' : `${Math.round(timings.startMs)} ms`}`);
  }
  const pl = plan(cfg, ids, timings);
  await queue.reset(epoch, cfg.ttl, {
    batchSize: cfg.batchSize, maxAttempts: cfg.maxAttempts, retries: cfg.retries, batchTimeout: cfg.batchTimeout,
    heartbeatTtl: cfg.heartbeatTtl, maxFailures: cfg.maxFailures, batchMs: pl.batchMs, share: pl.share, cutStarts: pl.cutStarts, minStarts: pl.minStarts, slackMs: Math.round(pl.slackMs), startMs: Math.round(pl.startMs),
    guessMs: Math.round(pl.guessMs),
    workers: cfg.workers, noWorkerTimeout: cfg.noWorkerTimeout,
  });
  await queue.seed(epoch, pl.order, pl.costs);
  const startedMs = await queue.start(epoch);

  let signal: string | null = null;
  const onSignal = (s: NodeJS.Signals) => { signal ??= s; };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const ended = () => gaveUp(redis);
  const reap = () => retryTick('tick (reap)', () => queue.reap(epoch, cfg.heartbeatTtl * 1000), undefined, ended);
  const tickMs = Math.min(1_000, (cfg.heartbeatTtl * 1000) / 3);
  let lastLog = 0;
  let lastLine = '';
  let noWorkerSince = startedMs;
  let p: Progress | null;
  for (;;) {
    p = await reap();
    if (!p) throw new Error(`run ${cfg.runId} was reset by another controller (or its keys were deleted)`);
    for (const w of p.reaped) core.warning(`worker ${w} stopped heartbeating for ${cfg.heartbeatTtl} s: its tests go back to the queue`);
    if (p.state === 'complete' || p.state === 'aborted') break;
    const figures: RunProgress = {
      done: p.done, total: p.total, running: p.running, queued: p.queued, requeued: p.requeued, live: p.live,
      leftMs: cfg.timings && p.live > 0 ? p.workLeftMs / p.live : null,
    };
    hooks.progress?.(figures);
    const line = progressLine(figures);
    if (Date.now() - lastLog >= PROGRESS_EVERY_MS || (line !== lastLine && Date.now() - lastLog >= 1_000)) {
      core.info(line);
      lastLog = Date.now();
      lastLine = line;
    }
    if (p.live > 0) noWorkerSince = p.nowMs;
    let reason = '';
    if (signal) reason = `controller cancelled by ${signal}`;
    else if (cfg.timeout > 0 && p.nowMs - startedMs > cfg.timeout * 1000) reason = `timeout of ${cfg.timeout} s reached`;
    else if (p.nowMs - noWorkerSince > cfg.noWorkerTimeout * 1000) reason = `no live worker for ${cfg.noWorkerTimeout} s (no-worker-timeout)`;
    if (reason) {
      await retryTick('abort', () => queue.abort(epoch, reason), undefined, ended);
      continue;
    }
    // Tick again right after the first heartbeat key that may expire, so a dead worker's tests are
    // requeued within a few ms of its heartbeat-ttl rather than up to a tick later.
    const tick = p.queued + p.requeued === 0 ? Math.min(tickMs, TAIL_TICK_MS) : tickMs;
    await sleep(p.nextExpiryMs >= 0 ? Math.min(tick, p.nextExpiryMs + 5) : tick);
  }
  // Workers of an aborted run kill their batches and hand them back within seconds: wait briefly so
  // that those runs are in the report.
  for (const until = Date.now() + ABORT_GRACE_MS; p.state === 'aborted' && p.running > 0 && Date.now() < until && !signal;) {
    await sleep(200);
    p = (await reap()) ?? p;
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);

  const data = await queue.readRun(cfg.queue, cfg.runId, ids);
  const learnt = learn(timings, data);
  if (cfg.timings) await saveTimings(redis, cfg.repository, cfg.queue, learnt, ids);
  const report = buildReport(data);
  const reportPath = resolve(cfg.reportOutput || join(process.env.RUNNER_TEMP || tmpdir(), `shardless-report-${cfg.queue}-${cfg.runId}.json`));
  const junitPath = cfg.junitOutput ? resolve(cfg.junitOutput) : '';
  await writeReport(report, reportPath, junitPath);
  if (cfg.timingsOutput) {
    // The timings only balance later runs: a file that cannot be written does not fail this one.
    try {
      writeTimingsFile(cfg.timingsOutput, learnt, all);
      core.info(`timings: wrote the costs of ${all.filter((id) => learnt.costs.has(id)).length} tests to ${cfg.timingsOutput}`);
    } catch (e) {
      core.warning((e as Error).message);
    }
  }
  const reason = exitReason(report, data, cfg.failOnFlaky);
  // The verdict a later attempt reads (src/queue/rerun.ts); not written into a run reset or expired meanwhile.
  await queue.verdict(epoch, reason === null);
  for (const [name, value] of Object.entries(reportOutputs(report, reportPath, junitPath))) core.setOutput(name, value);
  // GitHub keeps about 10 error annotations a step, and setFailed adds one.
  emitAnnotations(report, data, { workingDirectory: cfg.workingDirectory, max: 9 });
  const summary = renderSummary(report, data);
  if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(summary).write();
  else if (!hooks.ended) core.info(summary);
  const counts = countsLine(report, reportPath);
  hooks.ended?.({ summary: { report, data }, counts, reason });
  core.info(counts);
  if (reason) {
    core.setFailed(reason);
    return 1;
  }
  return 0;
}
