// The worker: register, heartbeat from this (parent) process, claim a batch, run it, report, loop
// until the controller marks the run complete or aborted. On SIGINT/SIGTERM: kill the batch's process
// group, hand its tests back, leave, exit 1 within 5 s.
import * as core from '@actions/core';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchRun, type BatchOutcome } from './batch.js';
import { maskUrl } from '../queue/index.js';
import type { WorkerConfig } from '../config.js';
import { readJUnitFiles } from '../report/junit-read.js';
import { applyCosts, readCosts } from './costs.js';
import { Queue, RedisUnreachableError, closeRedis, connectRedis, gaveUp, runKeys, type RedisClient, type RegisterReply } from '../queue/index.js';
import { OUTPUT } from '../names.js';
import type { BatchEnd, FinalStatus, TestResult } from '../types.js';
import { previousAttemptPassed } from '../queue/rerun.js';
import { PRESETS, usePreset, type PresetName, type PresetUse } from '../presets/presets.js';
import { withoutAnsi } from '../report/format.js';
import { runFallback } from './fallback.js';
import { WarmRunner } from './warm.js';

const IDLE_MIN_MS = 100;
const IDLE_MAX_MS = 1_000;
const EXIT_DEADLINE_MS = 4_500;
const MESSAGE_MAX = 4_000;
/** Watching a worker-id held by another instance: how often, and how much later expiry means a refresh. */
const CLASH_POLL_MS = 250;
const CLASH_SLACK_MS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Lines holding test ids, with workflow commands off: an id must never act as `::command::` or `##[...]`. */
function logIds(lines: string[]): void {
  const token = randomUUID();
  core.info(`::stop-commands::${token}`);
  // The runner also reads legacy `##[command]` anywhere in a line: break it up for display.
  for (const l of lines) core.info(l.replaceAll('##[', '#\u200b#['));
  core.info(`::${token}::`);
}

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

class Worker {
  private queue!: Queue;
  private redis!: RedisClient;
  private epoch = '';
  /** The worker id in use: worker-id, or worker-id with a suffix when another live worker holds it. */
  private id: string;
  /** The controller's heartbeat-ttl, published through Redis: set at register (joined), before the heartbeats start. */
  private heartbeatTtl = 0;
  private batchTimeout = 0;
  /** The controller's no-worker-timeout, published through Redis; the worker's own input until then. */
  private noWorkerTimeout: number;
  private current: { run: { cancel(): void }; lease: string } | null = null;
  private stopping = false;
  private reclaimed = false;
  /** Set when the worker must give up (its controller is gone); the loop stops on it. */
  private fatal = '';
  private controllerMissingSince = 0;
  private hbTimer: NodeJS.Timeout | undefined;
  private batches = 0;
  private testsRun = 0;
  private bad = new Map<string, FinalStatus>();
  /** Tests this worker ran: final as Redis recorded them, or its own result when Redis could not record it. */
  private ranHere = new Map<string, Exclude<FinalStatus, 'flaky'>>();
  /** Per-worker folder of the batches' files; made once connected, removed on every exit. */
  private tmp = '';
  /** Without a `command`: the runner preset's, rendered for each batch's files. */
  private preset: PresetUse | undefined;
  /** The preset's warm runner, which runs the batches but those of requeued tests (src/worker/warm.ts). */
  private warm: WarmRunner | undefined;

  constructor(private readonly cfg: WorkerConfig) {
    this.noWorkerTimeout = cfg.noWorkerTimeout;
    this.id = cfg.workerId;
  }

  private joined(reg: RegisterReply): void {
    this.epoch = reg.epoch;
    this.heartbeatTtl = reg.heartbeatTtl;
    this.batchTimeout = reg.batchTimeout;
    if (reg.noWorkerTimeout > 0) this.noWorkerTimeout = reg.noWorkerTimeout;
  }

  async main(): Promise<number> {
    const { cfg } = this;
    this.tmp = mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'shardless-'));
    this.onSignals();
    try {
      if (!cfg.command && cfg.runner !== 'custom') {
        this.preset = usePreset(cfg.runner, cfg.workingDirectory, join(this.tmp, 'presets'), cfg.runnerArgs);
        if (this.preset.warm) this.warm = new WarmRunner({ ...this.preset.warm, cwd: cfg.workingDirectory });
      }
      try {
        return await this.coordinated();
      } catch (e) {
        // Redis unreachable at the start, or past the reconnect window: the static share (src/worker/fallback.ts).
        if (this.stopping || !(e instanceof RedisUnreachableError || gaveUp(this.redis))) throw e;
        clearInterval(this.hbTimer);
        const why = e instanceof RedisUnreachableError ? (e as Error).message : `it stayed unreachable past the reconnect window (${(e as Error).message})`;
        return await runFallback(cfg, why, this.id, this.ranHere, async (label, tests, isolated, attempt) => {
          const ran = await this.execute(label, tests, isolated, attempt);
          this.current = null;
          return ran;
        });
      }
    } finally {
      clearInterval(this.hbTimer);
      this.warm?.stop();
      rmSync(this.tmp, { recursive: true, force: true });
      if (!this.stopping && this.redis) await closeRedis(this.redis);
    }
  }

  /** The run through the queue. */
  private async coordinated(): Promise<number> {
    const { cfg } = this;
    this.redis = await connectRedis(cfg, { name: `shardless-worker-${cfg.workerId}` });
    this.queue = new Queue(this.redis, runKeys(cfg.repository, cfg.queue, cfg.runId));
    core.info(`shardless worker ${cfg.workerId}: run ${cfg.runId}, queue ${cfg.queue}, Redis ${maskUrl(cfg.redisUrl)}`);
    if (!(await this.join())) return 0;
    // A third of the TTL keeps the worker alive; at most 2 s so an aborted run stops its batch promptly.
    this.hbTimer = setInterval(() => void this.heartbeat(), Math.min(2_000, Math.max(200, (this.heartbeatTtl * 1000) / 3)));
    return await this.loop();
  }

  /** Waits for the controller to reset the run, then registers. False: nothing to do (re-run). */
  private async join(): Promise<boolean> {
    const { cfg } = this;
    const started = Date.now();
    // This worker's start by Redis's clock, which also stamps a run's reset (meta createdAt).
    const since = cfg.runIdReused ? await this.queue.redisTimeMs() : 0;
    let said = '';
    let idle = IDLE_MIN_MS;
    for (;;) {
      const waitedOut = Date.now() - started > cfg.noWorkerTimeout * 1000;
      // A run id used again (act, a retried controller): a run that finished before this worker started
      // is an earlier one, about to be reset by this worker's controller. After no-worker-timeout it is
      // taken as this worker's own (a worker that came after its run ended), as it would be anyway.
      const earlier = since > 0 && !waitedOut && (await this.queue.finishedBefore(since));
      const reg = earlier ? null : await this.register();
      if (reg) {
        this.joined(reg);
        return true;
      }
      // A re-run attempt (default run id) whose previous attempt passed: its controller is not re-run.
      if (cfg.runIdDefaulted && cfg.runAttempt > 1 && (await previousAttemptPassed(this.redis, cfg))) {
        core.notice(`shardless: attempt ${cfg.runAttempt - 1} of this run passed, so its controller is not re-run; nothing to do`);
        return false;
      }
      const why = earlier
        ? `Run ${cfg.runId} in Redis finished before this worker started: waiting for the controller to start it again (up to ${cfg.noWorkerTimeout} s)...`
        : `Waiting for the controller to start run ${cfg.runId} (up to ${cfg.noWorkerTimeout} s)...`;
      if (why !== said) {
        core.info(why);
        said = why;
      }
      if (waitedOut) {
        throw new Error(`the controller did not start run ${cfg.runId} within no-worker-timeout (${cfg.noWorkerTimeout} s)`);
      }
      await sleep(idle);
      idle = Math.min(idle * 2, IDLE_MAX_MS);
    }
  }

  /**
   * Registers under this.id. An id that another live worker holds (two jobs given one worker-id) is not
   * taken over: its heartbeat key either runs out (a previous process of this worker, dead: the id is
   * taken over) or is refreshed (a live twin: this worker takes the id with a suffix, -2, -3, ...).
   */
  private async register(): Promise<RegisterReply | null> {
    let watched: number | undefined; // when the holder's heartbeat key expires, as first seen
    for (let n = 1; ;) {
      const reg = await this.queue.register(this.id);
      if (reg?.kind !== 'clash') return reg;
      const expiresAt = Date.now() + reg.expiresInMs;
      if (n === 1 && (watched === undefined || expiresAt <= watched + CLASH_SLACK_MS)) {
        watched ??= expiresAt;
        await sleep(CLASH_POLL_MS);
        continue;
      }
      const next = `${this.cfg.workerId}-${++n}`;
      core.warning(`worker-id ${this.id} is in use by another live worker (two jobs given the same worker-id?): this worker runs as ${next}`);
      this.id = next;
    }
  }

  private async rejoin(): Promise<void> {
    const reg = await this.register();
    if (!reg) throw new Error(`the state of run ${this.cfg.runId} disappeared from Redis (restarted without persistence, or its keys were deleted)`);
    if (reg.epoch !== this.epoch) core.warning(`run ${this.cfg.runId} was restarted by its controller; rejoining`);
    this.joined(reg);
    this.reclaimed = false;
  }

  private async heartbeat(): Promise<void> {
    if (this.stopping) return;
    try {
      const hb = await this.queue.heartbeat(this.epoch, this.id);
      if (hb.kind === 'reclaimed' && !this.reclaimed) {
        this.reclaimed = true;
        core.warning(`worker ${this.id} was presumed dead (no heartbeat for ${this.heartbeatTtl} s); its batch was handed to others, and it rejoins after this batch`);
      }
      if (hb.kind === 'stale') {
        // The run was restarted (new epoch: this batch's results would be fenced) or its state is gone.
        if ((await this.redis.exists(this.queue.keys.meta)) === 0 && !this.fatal) {
          this.fatal = `the state of run ${this.cfg.runId} disappeared from Redis (restarted without persistence, or its keys were deleted)`;
        }
        this.current?.run.cancel();
        return;
      }
      if (hb.state === 'aborted' && this.current) {
        core.warning(`run aborted (${hb.reason}): stopping the batch`);
        this.current.run.cancel();
      }
      this.watchController(hb.state === 'running' && !hb.controllerAlive);
    } catch (e) {
      core.warning(`heartbeat failed: ${(e as Error).message}`);
    }
  }

  /** A run whose controller stopped heartbeating would never complete: give up after no-worker-timeout. */
  private watchController(missing: boolean): void {
    if (!missing) {
      this.controllerMissingSince = 0;
      return;
    }
    const now = Date.now();
    if (!this.controllerMissingSince) this.controllerMissingSince = now;
    if (now - this.controllerMissingSince > this.noWorkerTimeout * 1000 && !this.fatal) {
      this.fatal = `the controller of run ${this.cfg.runId} stopped heartbeating more than ${this.noWorkerTimeout} s ago (no-worker-timeout)`;
      this.current?.run.cancel();
    }
  }

  private async loop(): Promise<number> {
    let idle = IDLE_MIN_MS;
    for (;;) {
      if (this.stopping) return new Promise(() => {}); // the signal handler exits
      if (this.fatal) {
        await this.queue.release(this.epoch, this.id, '', 'cancelled');
        throw new Error(this.fatal);
      }
      const c = await this.queue.claim(this.epoch, this.id);
      if (c.kind === 'ok') {
        idle = IDLE_MIN_MS;
        await this.runBatch(c.lease, c.tests, c.isolated, c.attempt);
        continue;
      }
      if (c.kind === 'done') return this.finish(c.state, c.reason);
      if (c.kind === 'stale') {
        await this.rejoin();
        continue;
      }
      if (this.reclaimed) await this.rejoin();
      await sleep(idle);
      idle = Math.min(idle * 2, IDLE_MAX_MS);
    }
  }

  /** Runs one batch of the command (claimed, or of the fallback's share) and reads its results; null: cancelled. */
  private async execute(lease: string, tests: string[], isolated: boolean, attempt: number): Promise<{ out: BatchOutcome; results: Map<string, TestResult>; end: BatchEnd } | null> {
    const { cfg } = this;
    core.startGroup(`shardless batch ${lease}: ${tests.length} test${tests.length === 1 ? '' : 's'}${isolated ? ' (isolated)' : ''}, attempt ${attempt}`);
    logIds(tests.map((t) => `  - ${t}`));
    const setup = {
      tests, workerId: this.id, batchId: lease, isolated, attempt, timeoutMs: this.batchTimeout * 1000, tmpDir: this.tmp, reportsDir: cfg.reportsDir,
    };
    // A requeued test runs alone in a fresh process: whatever the warm runner carried over cannot be why.
    const run = this.warm && !isolated
      ? this.warm.batch(setup)
      : new BatchRun({
        ...setup, command: this.preset?.render(tests) ?? cfg.command, shell: cfg.shell, cwd: cfg.workingDirectory, junitGlob: cfg.junit,
        keepTail: this.preset !== undefined,
      });
    this.current = { run, lease };
    let out: BatchOutcome;
    try {
      out = await run.start();
    } finally {
      core.endGroup();
    }
    if (this.stopping || out.cancelled) {
      // Cancelled by a signal (its handler hands the batch back), by an aborted run, or by a lost
      // controller (the loop's release hands it back).
      this.current = null;
      return null;
    }
    const { results, end } = batchResults(out, tests, cfg.workingDirectory);
    if (this.preset && cfg.runner !== 'custom') runnerFoundNoTests(cfg.runner, out.outputTail, tests, results);
    return { out, results, end };
  }

  private async runBatch(lease: string, tests: string[], isolated: boolean, attempt: number): Promise<void> {
    const ran = await this.execute(lease, tests, isolated, attempt);
    if (!ran) return;
    const { out, results, end } = ran;
    let reply: Awaited<ReturnType<Queue['report']>>;
    try {
      reply = await this.queue.report(this.epoch, this.id, lease, end, results);
    } catch (e) {
      // Redis is gone with these results: they count as run here (the fallback does not run them again).
      if (gaveUp(this.redis)) for (const [id, r] of results) this.ranHere.set(id, r.outcome);
      throw e;
    }
    this.current = null;
    this.batches++;
    this.testsRun += tests.length;
    const how = out.timedOut ? `timed out after ${this.batchTimeout} s` : out.signal ? `killed by ${out.signal}` : `exit ${out.exitCode}`;
    core.info(`batch ${lease}: ${how} in ${(out.durationMs / 1000).toFixed(1)} s${reply.kind === 'fenced' ? ' (lease was reclaimed: late results kept only for tests not re-run yet)' : ''}`);
    logIds(tests.map((t) => {
      const r = results.get(t);
      const fin = reply.finals[t];
      const what = r ? r.outcome : end === 'split' ? 'no per-test result: re-run alone' : `no result (the batch ${end})`;
      if (fin === 'failed' || fin === 'lost') this.bad.set(t, fin);
      if (fin) this.ranHere.set(t, fin === 'flaky' ? 'passed' : fin);
      return `  ${fin === 'failed' || fin === 'lost' ? '✗' : r?.outcome === 'passed' ? '✓' : '·'} ${t}: ${what}${fin && fin !== r?.outcome ? ` -> ${fin}` : ''}`;
    }));
    if (reply.kind === 'unknown') core.warning(`batch ${lease} is unknown to Redis (it lost its last writes: restarted from older data?); rejoining`);
    if (reply.kind !== 'ok') await this.rejoin();
  }

  private outputs(): void {
    core.setOutput(OUTPUT.batches, String(this.batches));
    core.setOutput(OUTPUT.tests, String(this.testsRun));
    core.setOutput(OUTPUT.failed, String(this.bad.size));
  }

  private async finish(state: string, reason: string): Promise<number> {
    await this.queue.release(this.epoch, this.id, '', 'finished');
    this.outputs();
    core.info(`worker ${this.id}: ${this.batches} batches, ${this.testsRun} tests, run ${state}`);
    if (state === 'aborted') {
      core.setFailed(`run aborted by the controller: ${reason}`);
      return 1;
    }
    if (this.bad.size > 0) {
      const list = [...this.bad].slice(0, 10).map(([t, s]) => `${t} (${s})`).join(', ');
      core.setFailed(`${this.bad.size} test${this.bad.size === 1 ? '' : 's'} run here ended failed or lost: ${list}${this.bad.size > 10 ? ', ...' : ''}`);
      return 1;
    }
    return 0;
  }

  private onSignals(): void {
    const handle = (sig: NodeJS.Signals) => {
      if (this.stopping) return;
      this.stopping = true;
      clearInterval(this.hbTimer);
      setTimeout(() => process.exit(1), EXIT_DEADLINE_MS).unref();
      const cur = this.current;
      cur?.run.cancel();
      this.warm?.stop();
      void (async () => {
        // In the fallback there is no queue to hand anything back to.
        if (this.queue && !gaveUp(this.redis)) {
          try {
            const n = await this.queue.release(this.epoch, this.id, cur?.lease ?? '', 'cancelled');
            core.info(`handed ${n} test${n === 1 ? '' : 's'} back to the queue`);
          } catch (e) {
            core.warning(`could not hand tests back: ${(e as Error).message} (the controller requeues them after heartbeat-ttl)`);
          }
        }
        this.outputs();
        rmSync(this.tmp, { recursive: true, force: true });
        core.setFailed(`worker ${this.id} cancelled by ${sig}`);
        if (this.redis) await closeRedis(this.redis);
        process.exit(1);
      })();
    };
    process.on('SIGINT', handle);
    process.on('SIGTERM', handle);
  }
}

export function runWorker(cfg: WorkerConfig): Promise<number> {
  return new Worker(cfg).main();
}
