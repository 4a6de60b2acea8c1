// The worker: join the run (membership.ts: register, heartbeat from this parent process), claim a batch,
// run it, report its results (results.ts), loop until the controller marks the run complete or aborted.
// On SIGINT/SIGTERM: kill the batch's process group, hand its tests back, leave, exit 1 within 5 s.
import * as core from '@actions/core';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchRun, type BatchOutcome } from './batch.js';
import type { WorkerConfig } from '../config.js';
import { RedisUnreachableError, closeRedis, gaveUp, type Queue } from '../queue/index.js';
import { OUTPUT } from '../names.js';
import type { BatchEnd, FinalStatus, TestResult } from '../types.js';
import { usePreset, type PresetUse } from '../presets/index.js';
import { runFallback } from './fallback.js';
import { IDLE_MAX_MS, IDLE_MIN_MS, sleep } from './idle.js';
import { Membership } from './membership.js';
import { batchResults, failedHere, runnerFoundNoTests } from './results.js';
import { WarmRunner } from './warm.js';
import { mergeWorkerCoverage } from './coverage.js';

const EXIT_DEADLINE_MS = 4_500;

/** Lines holding test ids, with workflow commands off: an id must never act as `::command::` or `##[...]`. */
function logIds(lines: string[]): void {
  const token = randomUUID();
  core.info(`::stop-commands::${token}`);
  // The runner also reads legacy `##[command]` anywhere in a line: break it up for display.
  for (const l of lines) core.info(l.replaceAll('##[', '#\u200b#['));
  core.info(`::${token}::`);
}

class Worker {
  /** Redis, the run's queue, this worker's id and epoch in it, its heartbeats (src/worker/membership.ts). */
  private readonly member: Membership;
  private current: { run: { cancel(): void }; lease: string } | null = null;
  private stopping = false;
  private batches = 0;
  private testsRun = 0;
  private bad = new Map<string, FinalStatus>();
  /** Tests this worker ran: final as Redis recorded them, or its own result when Redis could not record it. */
  private ranHere = new Map<string, Exclude<FinalStatus, 'flaky'>>();
  /** Tests this worker ran that were not final when it reported them (requeued): another worker ends them. */
  private unsettled = new Set<string>();
  /** Per-worker folder of the batches' files; made once connected, removed on every exit. */
  private tmp = '';
  /** Without a `command`: the runner preset's, rendered for each batch's files. */
  private preset: PresetUse | undefined;
  /** The preset's warm runner, which runs the batches but those of requeued tests (src/worker/warm.ts). */
  private warm: WarmRunner | undefined;

  constructor(private readonly cfg: WorkerConfig) {
    this.member = new Membership(cfg, { stopping: () => this.stopping, batch: () => this.current?.run });
  }

  async main(): Promise<number> {
    const { cfg } = this;
    this.tmp = mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'shardless-'));
    this.onSignals();
    try {
      if (!cfg.command && cfg.runner !== 'custom') {
        this.preset = usePreset(cfg.runner, cfg.workingDirectory, join(this.tmp, 'presets'), cfg.runnerArgs);
        if (this.preset.warm) {
          this.warm = new WarmRunner({ ...this.preset.warm, cwd: cfg.workingDirectory });
          // Started now, its set-up (vitest's server, jest's modules) overlaps connecting, registering
          // and the wait for the run instead of delaying the first batch.
          this.warm.ensure();
        }
      }
      try {
        return await this.coordinated();
      } catch (e) {
        // Redis unreachable at the start, or past the reconnect window: the static share (src/worker/fallback.ts).
        if (this.stopping || !(e instanceof RedisUnreachableError || gaveUp(this.member.redis))) throw e;
        this.member.stopHeartbeats();
        const why = e instanceof RedisUnreachableError ? (e as Error).message : `it stayed unreachable past the reconnect window (${(e as Error).message})`;
        return await runFallback(cfg, why, this.member.id, this.ranHere, async (label, tests, isolated, attempt) => {
          const ran = await this.execute(label, tests, isolated, attempt);
          this.current = null;
          return ran;
        });
      }
    } finally {
      this.member.stopHeartbeats();
      this.warm?.stop();
      rmSync(this.tmp, { recursive: true, force: true });
      if (!this.stopping && this.member.redis) await closeRedis(this.member.redis);
    }
  }

  /** The run through the queue. */
  private async coordinated(): Promise<number> {
    if (!(await this.member.start())) return 0;
    return await this.loop();
  }

  private async loop(): Promise<number> {
    let idle = IDLE_MIN_MS;
    for (;;) {
      if (this.stopping) return new Promise(() => {}); // the signal handler exits
      if (this.member.fatal) {
        await this.member.queue.release(this.member.epoch, this.member.id, '', 'cancelled');
        throw new Error(this.member.fatal);
      }
      const c = await this.member.queue.claim(this.member.epoch, this.member.id);
      if (c.kind === 'ok') {
        idle = IDLE_MIN_MS;
        await this.runBatch(c.lease, c.tests, c.isolated, c.attempt);
        continue;
      }
      if (c.kind === 'done') return this.finish(c.state, c.reason);
      if (c.kind === 'stale') {
        await this.member.rejoin();
        continue;
      }
      if (this.member.reclaimed) await this.member.rejoin();
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
      tests, workerId: this.member.id, batchId: lease, isolated, attempt, timeoutMs: this.member.batchTimeout * 1000, tmpDir: this.tmp, reportsDir: cfg.reportsDir,
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
      reply = await this.member.queue.report(this.member.epoch, this.member.id, lease, end, results, out.firstOnRunner === true);
    } catch (e) {
      // Redis is gone with these results: they count as run here (the fallback does not run them again).
      if (gaveUp(this.member.redis)) for (const [id, r] of results) this.ranHere.set(id, r.outcome);
      throw e;
    }
    this.current = null;
    this.batches++;
    this.testsRun += tests.length;
    const how = out.timedOut ? `timed out after ${this.member.batchTimeout} s` : out.signal ? `killed by ${out.signal}` : `exit ${out.exitCode}`;
    core.info(`batch ${lease}: ${how} in ${(out.durationMs / 1000).toFixed(1)} s${reply.kind === 'fenced' ? ' (lease was reclaimed: late results kept only for tests not re-run yet)' : ''}`);
    logIds(tests.map((t) => {
      const r = results.get(t);
      const fin = reply.finals[t];
      const what = r ? r.outcome : end === 'split' ? 'no per-test result: re-run alone' : `no result (the batch ${end})`;
      if (fin === 'failed' || fin === 'lost') this.bad.set(t, fin);
      if (fin) this.ranHere.set(t, fin === 'flaky' ? 'passed' : fin);
      if (fin) this.unsettled.delete(t);
      else this.unsettled.add(t);
      return `  ${fin === 'failed' || fin === 'lost' ? '✗' : r?.outcome === 'passed' ? '✓' : '·'} ${t}: ${what}${fin && fin !== r?.outcome ? ` -> ${fin}` : ''}`;
    }));
    if (reply.kind === 'unknown') core.warning(`batch ${lease} is unknown to Redis (it lost its last writes: restarted from older data?); rejoining`);
    if (reply.kind !== 'ok') await this.member.rejoin();
  }

  /** The jest preset's coverage of this worker's batches, as one file (src/worker/coverage.ts). */
  private mergeCoverage(): void {
    if (this.cfg.runner !== 'jest' || !this.preset) return;
    try {
      const merged = mergeWorkerCoverage(this.cfg.reportsDir, this.member.id);
      if (merged) core.info(`coverage of ${merged.batches} batch${merged.batches === 1 ? '' : 'es'} merged into ${merged.file}`);
    } catch (e) {
      // The batches' own files stay, and the final merge reads them.
      core.warning(`could not merge this worker's coverage: ${(e as Error).message}`);
    }
  }

  private outputs(): void {
    core.setOutput(OUTPUT.batches, String(this.batches));
    core.setOutput(OUTPUT.tests, String(this.testsRun));
    core.setOutput(OUTPUT.failed, String(this.bad.size));
  }

  private async finish(state: string, reason: string): Promise<number> {
    await this.member.queue.release(this.member.epoch, this.member.id, '', 'finished');
    // A test it ran that was requeued and then ended failed or lost on another worker counts here too.
    if (state === 'complete' && this.unsettled.size > 0) {
      for (const [t, fin] of await this.member.queue.finals([...this.unsettled])) {
        if (fin === 'failed' || fin === 'lost') this.bad.set(t, fin);
      }
    }
    this.mergeCoverage();
    this.outputs();
    core.info(`worker ${this.member.id}: ${this.batches} batches, ${this.testsRun} tests, run ${state}`);
    if (state === 'aborted') {
      core.setFailed(`run aborted by the controller: ${reason}`);
      return 1;
    }
    if (this.bad.size > 0) {
      core.setFailed(failedHere([...this.bad]));
      return 1;
    }
    return 0;
  }

  private onSignals(): void {
    const handle = (sig: NodeJS.Signals) => {
      if (this.stopping) return;
      this.stopping = true;
      this.member.stopHeartbeats();
      setTimeout(() => process.exit(1), EXIT_DEADLINE_MS).unref();
      const cur = this.current;
      cur?.run.cancel();
      this.warm?.stop();
      void (async () => {
        // In the fallback there is no queue to hand anything back to.
        if (this.member.queue && !gaveUp(this.member.redis)) {
          try {
            const n = await this.member.queue.release(this.member.epoch, this.member.id, cur?.lease ?? '', 'cancelled');
            core.info(`handed ${n} test${n === 1 ? '' : 's'} back to the queue`);
          } catch (e) {
            core.warning(`could not hand tests back: ${(e as Error).message} (the controller requeues them after heartbeat-ttl)`);
          }
        }
        this.outputs();
        rmSync(this.tmp, { recursive: true, force: true });
        core.setFailed(`worker ${this.member.id} cancelled by ${sig}`);
        if (this.member.redis) await closeRedis(this.member.redis);
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
