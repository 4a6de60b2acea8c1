// Runs one batch of the user's command: renders the placeholders, runs it with the batch's files and
// SHARDLESS_* environment (batch-files.ts) as the leader of its own process group (process.ts), keeps the
// end of its output when asked, and collects the JUnit files it wrote (junit-files.ts).

import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PLACEHOLDER } from '../names.js';
import { escapeRegExp, shellQuote } from '../text.js';
import { batchFiles } from './batch-files.js';
import { statGlob, written, type Stamp } from './junit-files.js';
import { armTimeout, fitsExec, killProcessGroup } from './process.js';

export { shellQuote };

export interface BatchSpec {
  /** The user's command, with placeholders {tests} {tests-file} {junit}. */
  command: string;
  /** Program that runs the command as `shell -c script` ('bash', 'sh' or a path). */
  shell: string;
  cwd: string;
  tests: string[];
  workerId: string;
  batchId: string;
  isolated: boolean;
  attempt: number;
  /** 0: none. */
  timeoutMs: number;
  /** '' : none. Relative to cwd. */
  junitGlob: string;
  /** Where the per-batch files (tests file, JUnit path) are created. */
  tmpDir: string;
  /** Base environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** reports-dir: where the runner writes its own reports (CMD_ENV.reportsDir, CMD_ENV.reportName); none when unset. */
  reportsDir?: string;
  /** Keep the last bytes of the command's output (still streamed) in BatchOutcome.outputTail. */
  keepTail?: boolean;
}

export interface BatchOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Killed by cancel(). */
  cancelled: boolean;
  /** The {junit} path if written, plus glob matches the batch wrote or changed. */
  junitFiles: string[];
  /** The command holds {junit} or junitGlob is set. */
  usesJUnit: boolean;
  durationMs: number;
  /** The end of stdout and stderr as they came, when BatchSpec.keepTail ('' otherwise). */
  outputTail: string;
  /** Where the runner's reporter may have written the files' measured costs (CMD_ENV.costs). */
  costsFile?: string;
  /** The first batch of a warm runner's process: its wall carries (part of) that runner's start, which later batches do not pay. */
  firstOnRunner?: boolean;
}

/** What a batch gets from the worker: the ids, where it writes its results, and its environment. */
export type BatchSetup = Pick<BatchSpec, 'tests' | 'workerId' | 'batchId' | 'isolated' | 'attempt' | 'tmpDir' | 'env' | 'reportsDir'>;

/** Coarse file-system clocks can stamp a file slightly before Date.now() said the batch started. */
const MTIME_SLACK_MS = 1000;
/** How much of a batch's output BatchSpec.keepTail keeps. */
const TAIL_BYTES = 8 * 1024;
/** After the command's exit, how long its output may still take to arrive (a killed group closes it). */
const DRAIN_MS = 1000;

export function renderCommand(command: string, tests: string[], testsFile: string, junitPath: string): string {
  const quoted = tests.map(shellQuote).join(' ');
  const values: Record<string, string> = {
    [PLACEHOLDER.tests]: quoted,
    [PLACEHOLDER.testsFile]: shellQuote(testsFile),
    [PLACEHOLDER.junit]: shellQuote(junitPath),
  };
  const hasTests = command.includes(PLACEHOLDER.tests) || command.includes(PLACEHOLDER.testsFile);
  // One pass, so that an id that looks like a placeholder is never expanded itself.
  const re = new RegExp(Object.keys(values).map(escapeRegExp).join('|'), 'g');
  const rendered = command.replace(re, (m) => values[m]);
  return hasTests || tests.length === 0 ? rendered : `${rendered} ${quoted}`;
}

export class BatchRun {
  private child: ReturnType<typeof spawn> | undefined;
  private exited = false;
  private cancelled = false;
  private timedOut = false;
  private tail = '';

  constructor(private readonly spec: BatchSpec) {}

  /** Kills the batch's whole process tree at once (the worker must exit within seconds). */
  cancel(): void {
    if (this.exited) return;
    this.cancelled = true;
    if (this.child?.pid) killProcessGroup(this.child.pid, 'SIGKILL');
  }

  async start(): Promise<BatchOutcome> {
    const s = this.spec;
    const cwd = path.resolve(s.cwd);
    const junitGlob = s.junitGlob.trim();
    const usesJUnit = s.command.includes(PLACEHOLDER.junit) || junitGlob !== '';
    const files = await batchFiles(s);
    const { dir, testsFile, junitPath, env } = files;

    const script = renderCommand(s.command, s.tests, testsFile, junitPath);
    let args = ['-c', script];
    if (!fitsExec(script)) {
      const scriptFile = path.join(dir, 'command.sh');
      await fs.writeFile(scriptFile, script);
      args = [scriptFile];
    }

    // Files matching the glob before the run are the previous batches' unless this one rewrites them.
    const before = junitGlob ? await statGlob(junitGlob, cwd) : new Map<string, Stamp>();
    const startMs = Date.now();
    const { exitCode, signal } = this.cancelled
      ? { exitCode: null, signal: null }
      : await this.run(s.shell, args, cwd, env, s.timeoutMs);
    const durationMs = this.child ? Date.now() - startMs : 0;

    const junitFiles = await written(files);
    if (junitGlob) {
      for (const [file, st] of await statGlob(junitGlob, cwd)) {
        const old = before.get(file);
        const changed = !old || old.mtimeMs !== st.mtimeMs || old.size !== st.size;
        if (changed && st.mtimeMs >= startMs - MTIME_SLACK_MS && !junitFiles.includes(file)) junitFiles.push(file);
      }
    }
    return {
      exitCode, signal, timedOut: this.timedOut, cancelled: this.cancelled, junitFiles, usesJUnit, durationMs, outputTail: this.tail,
      costsFile: files.costsPath,
    };
  }

  private run(
    shell: string,
    args: string[],
    cwd: string,
    env: NodeJS.ProcessEnv,
    timeoutMs: number,
  ): Promise<{ exitCode: number | null; signal: string | null }> {
    return new Promise((resolve) => {
      let disarm = () => {};
      const finish = (exitCode: number | null, signal: string | null) => {
        if (this.exited) return;
        this.exited = true;
        disarm();
        resolve({ exitCode, signal });
      };
      const cannotRun = (err: unknown) => {
        process.stderr.write(`shardless: cannot run the command with shell '${shell}': ${(err as Error).message}\n`);
        finish(127, null);
      };

      let child: ReturnType<typeof spawn>;
      try {
        // detached: the shell leads its own process group, which is what gets killed.
        const out = this.spec.keepTail ? 'pipe' : 'inherit';
        child = spawn(shell, args, { cwd, env, detached: true, stdio: ['ignore', out, out] });
      } catch (err) {
        cannotRun(err); // e.g. E2BIG, or a NUL byte in an argument
        return;
      }
      this.child = child;
      const drained = this.streamKeepingTail(child);
      child.on('error', (err) => {
        if (child.pid === undefined) cannotRun(err); // ENOENT, EACCES: nothing was started
      });
      // 'exit', not 'close': descendants holding the inherited stdout would delay 'close' forever.
      child.on('exit', (code, sig) => {
        // Nothing the batch started may outlive it: background jobs, orphans, SIGTERM-ignorers.
        if (child.pid) killProcessGroup(child.pid, 'SIGKILL');
        disarm(); // it ended: no timeout while its last output drains
        void drained.then(() => finish(code, sig));
      });

      if (child.pid && timeoutMs > 0) disarm = armTimeout(child.pid, timeoutMs, () => (this.timedOut = true));
    });
  }

  /**
   * Streams the child's piped output on to ours, keeping its last TAIL_BYTES; resolves when both pipes
   * closed, or DRAIN_MS after the exit (a process that left the group may hold them open).
   */
  private streamKeepingTail(child: ReturnType<typeof spawn>): Promise<void> {
    if (!this.spec.keepTail) return Promise.resolve();
    const pipes = [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const;
    const closed = pipes.map(([from, to]) => new Promise<void>((done) => {
      if (!from) return done();
      from.on('data', (chunk: Buffer) => {
        to.write(chunk);
        this.tail = (this.tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
      });
      from.on('close', done).on('error', done);
    }));
    return new Promise((done) => {
      let late: NodeJS.Timeout | undefined;
      void Promise.all(closed).then(() => {
        clearTimeout(late);
        done();
      });
      child.on('exit', () => {
        late = setTimeout(done, DRAIN_MS);
      });
    });
  }
}

