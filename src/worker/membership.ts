// A worker's membership of its run: connects to Redis, waits for the controller to start the run and
// registers (under worker-id, or with a suffix while another live worker holds it), heartbeats from this
// (parent) process, and notices what the heartbeat says: a lease reclaimed, a run restarted or gone, an
// aborted run, a controller that stopped heartbeating. The worker's loop rejoins on them.
import * as core from '@actions/core';
import type { WorkerConfig } from '../config.js';
import { Queue, connectRedis, maskUrl, runKeys, type RedisClient, type RegisterReply } from '../queue/index.js';
import { previousAttemptPassed } from '../queue/rerun.js';
import { IDLE_MAX_MS, IDLE_MIN_MS, sleep } from './idle.js';

/** Watching a worker-id held by another instance: how often, and how much later expiry means a refresh. */
const CLASH_POLL_MS = 250;
const CLASH_SLACK_MS = 100;

/** What the membership needs of the worker: whether it is stopping (a signal), and the batch it runs. */
export interface Running {
  stopping(): boolean;
  batch(): { cancel(): void } | undefined;
}

export class Membership {
  queue!: Queue;
  redis!: RedisClient;
  epoch = '';
  /** The worker id in use: worker-id, or worker-id with a suffix when another live worker holds it. */
  id: string;
  /** The controller's heartbeat-ttl, published through Redis: set at register (joined), before the heartbeats start. */
  private heartbeatTtl = 0;
  batchTimeout = 0;
  /** The controller's no-worker-timeout, published through Redis; the worker's own input until then. */
  private noWorkerTimeout: number;
  reclaimed = false;
  /** Set when the worker must give up (its controller is gone); the loop stops on it. */
  fatal = '';
  private controllerMissingSince = 0;
  private hbTimer: NodeJS.Timeout | undefined;

  constructor(private readonly cfg: WorkerConfig, private readonly worker: Running) {
    this.noWorkerTimeout = cfg.noWorkerTimeout;
    this.id = cfg.workerId;
  }

  private joined(reg: RegisterReply): void {
    this.epoch = reg.epoch;
    this.heartbeatTtl = reg.heartbeatTtl;
    this.batchTimeout = reg.batchTimeout;
    if (reg.noWorkerTimeout > 0) this.noWorkerTimeout = reg.noWorkerTimeout;
  }

  /** Connects, joins the run and starts the heartbeats. False: nothing to do (re-run). */
  async start(): Promise<boolean> {
    const { cfg } = this;
    this.redis = await connectRedis(cfg, { name: `shardless-worker-${cfg.workerId}` });
    this.queue = new Queue(this.redis, runKeys(cfg.repository, cfg.queue, cfg.runId));
    core.info(`shardless worker ${cfg.workerId}: run ${cfg.runId}, queue ${cfg.queue}, Redis ${maskUrl(cfg.redisUrl)}`);
    if (!(await this.join())) return false;
    // A third of the TTL keeps the worker alive; at most 2 s so an aborted run stops its batch promptly.
    this.hbTimer = setInterval(() => void this.heartbeat(), Math.min(2_000, Math.max(200, (this.heartbeatTtl * 1000) / 3)));
    return true;
  }

  stopHeartbeats(): void {
    clearInterval(this.hbTimer);
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

  async rejoin(): Promise<void> {
    const reg = await this.register();
    if (!reg) throw new Error(`the state of run ${this.cfg.runId} disappeared from Redis (restarted without persistence, or its keys were deleted)`);
    if (reg.epoch !== this.epoch) core.warning(`run ${this.cfg.runId} was restarted by its controller; rejoining`);
    this.joined(reg);
    this.reclaimed = false;
  }

  private async heartbeat(): Promise<void> {
    if (this.worker.stopping()) return;
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
        this.worker.batch()?.cancel();
        return;
      }
      const run = this.worker.batch();
      if (hb.state === 'aborted' && run) {
        core.warning(`run aborted (${hb.reason}): stopping the batch`);
        run.cancel();
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
      this.worker.batch()?.cancel();
    }
  }
}
