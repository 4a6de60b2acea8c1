// A warm runner: one long-lived test-runner process per worker (a preset's `warm` helper, run by node),
// which runs batch after batch without starting the runner again (vitest keeps its Vite server and
// transform cache, jest its loaded modules). The worker's promises hold as for a command:
// - it leads its own process group, which a timeout, a cancel or the worker's exit kills whole; the next
//   batch then starts a new runner;
// - a runner that dies takes only its batch (its exit is the batch's outcome), and the next batch starts
//   a new one;
// - heartbeats stay the worker's own; results are still read per test from the batch's JUnit file.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { CMD_ENV } from '../names.js';
import { withoutInputs } from '../env.js';
import type { BatchOutcome, BatchSetup } from './batch.js';
import { batchFiles } from './batch-files.js';
import { written } from './junit-files.js';
import { armTimeout, killProcessGroup } from './process.js';

export interface WarmSpec {
  /** The runner's script, run as `node script ...args`. */
  script: string;
  args: string[];
  cwd: string;
  /** Base environment (default process.env). */
  env?: NodeJS.ProcessEnv;
}

interface Reply {
  type: 'done';
  batch: string;
  exitCode: number;
  /** The runner grew past its memory bound (a leak): it serves no further batch. */
  retire?: boolean;
}

export class WarmRunner {
  private proc: ChildProcess | undefined;
  private exit: Promise<{ exitCode: number | null; signal: string | null }> | undefined;
  /** Runner processes started so far (a new one after each death). */
  started = 0;
  /** Batches sent to the live process. */
  private served = 0;

  constructor(private readonly spec: WarmSpec) {}

  /** The pid of the live runner process (the leader of its group). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** A batch to run on the warm runner; start() and cancel() as BatchRun's. */
  batch(setup: BatchSetup & { timeoutMs: number }): WarmBatch {
    return new WarmBatch(this, setup);
  }

  /** Kills the runner's whole group (nothing it started outlives it); the next batch starts a new one. */
  stop(): void {
    if (this.proc?.pid) killProcessGroup(this.proc.pid, 'SIGKILL');
    // Forgotten at once: its exit may not have been seen yet, and the next batch must not be sent to it.
    this.proc = undefined;
    this.exit = undefined;
  }

  /** Counts a batch sent to the live runner; true for its first (the one that waits for its start). */
  firstBatch(): boolean {
    return this.served++ === 0;
  }

  /** The live runner, started when there is none. */
  ensure(): { proc: ChildProcess; exit: Promise<{ exitCode: number | null; signal: string | null }> } {
    if (this.proc && this.exit && this.proc.exitCode === null && this.proc.signalCode === null && this.proc.connected) {
      return { proc: this.proc, exit: this.exit };
    }
    this.stop();
    const { script, args, cwd, env } = this.spec;
    // detached: the runner leads its own process group, which is what gets killed.
    const proc = spawn(process.execPath, [script, ...args], {
      cwd: resolve(cwd), env: withoutInputs(env ?? process.env), detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.started++;
    this.served = 0;
    const exit = new Promise<{ exitCode: number | null; signal: string | null }>((done) => {
      proc.on('error', (err) => {
        if (proc.pid === undefined) {
          process.stderr.write(`shardless: cannot start the warm runner: ${err.message}\n`);
          done({ exitCode: 127, signal: null });
        }
      });
      proc.on('exit', (code, sig) => {
        // Nothing the runner started may outlive it.
        if (proc.pid) killProcessGroup(proc.pid, 'SIGKILL');
        done({ exitCode: code, signal: sig });
      });
    });
    this.proc = proc;
    this.exit = exit;
    return { proc, exit };
  }
}

export class WarmBatch {
  private cancelled = false;
  private done = false;

  constructor(private readonly runner: WarmRunner, private readonly setup: BatchSetup & { timeoutMs: number }) {}

  /** Kills the runner's whole group at once (the worker must exit within seconds). */
  cancel(): void {
    if (this.done) return;
    this.cancelled = true;
    this.runner.stop();
  }

  async start(): Promise<BatchOutcome> {
    const files = await batchFiles(this.setup);
    const outcome = (exitCode: number | null, signal: string | null, timedOut: boolean, durationMs: number, firstOnRunner = false): Promise<BatchOutcome> =>
      written(files).then((junitFiles) => ({
        // The runner's output goes straight to the worker's: a batch's files that it does not run are failed
        // cases of its JUnit (vitest-junit.mjs), or no result (jest), rather than words to look for.
        exitCode, signal, timedOut, cancelled: this.cancelled, junitFiles, usesJUnit: true, durationMs, outputTail: '', costsFile: files.costsPath,
        firstOnRunner,
      }));
    if (this.cancelled) return outcome(null, null, false, 0);

    const startMs = Date.now();
    const { proc, exit } = this.runner.ensure();
    const firstOnRunner = this.runner.firstBatch();
    const env = Object.fromEntries(Object.values(CMD_ENV).filter((k) => files.env[k] !== undefined).map((k) => [k, files.env[k]]));
    let timedOut = false;
    const disarm = proc.pid && this.setup.timeoutMs > 0
      ? armTimeout(proc.pid, this.setup.timeoutMs, () => (timedOut = true))
      : () => {};
    const reply = new Promise<Reply>((done) => {
      const onMessage = (m: unknown) => {
        const r = m as Reply;
        if (r?.type === 'done' && r.batch === this.setup.batchId) {
          proc.off('message', onMessage);
          done(r);
        }
      };
      proc.on('message', onMessage);
    });
    try {
      proc.send({ type: 'batch', batch: this.setup.batchId, tests: this.setup.tests, env });
    } catch {
      // The runner is gone already: its exit says how.
    }
    const ended = await Promise.race([
      reply.then((r) => ({ exitCode: r.exitCode, signal: null, replied: true, retire: r.retire === true })),
      exit.then((e) => ({ ...e, replied: false, retire: true })),
    ]);
    disarm();
    // A runner that outlived its SIGTERM (it may have replied while closing) still goes: its state is
    // unknown. So does one that grew past its memory bound, before it takes another batch.
    if (timedOut || ended.retire) this.runner.stop();
    // A runner that ended without answering ran the batch to no known end, even with exit code 0 (a
    // test calling process.exit(0)): no result, as for a batch killed, never "every test passed".
    if (!ended.replied && ended.exitCode === 0) ended.exitCode = null;
    this.done = true;
    return outcome(ended.exitCode, ended.signal, timedOut, Date.now() - startMs, firstOnRunner);
  }
}
