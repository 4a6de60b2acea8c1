// Runs one batch of the user's command: renders the placeholders, gives it the SHARDLESS_* environment,
// runs it as the leader of its own process group so that a timeout, a cancellation or its own exit can
// take down every descendant, and collects the JUnit files it wrote.

import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as glob from '@actions/glob';
import { CMD_ENV, ENV, PLACEHOLDER } from '../names.js';
import { escapeRegExp, shellQuote } from '../text.js';
import { withoutInputs } from '../env.js';

export { escapeRegExp, shellQuote, withoutInputs };

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
}

/** What a batch gets from the worker: the ids, where it writes its results, and its environment. */
export type BatchSetup = Pick<BatchSpec, 'tests' | 'workerId' | 'batchId' | 'isolated' | 'attempt' | 'tmpDir' | 'env' | 'reportsDir'>;

export interface BatchFiles {
  /** The batch's own fresh folder. */
  dir: string;
  testsFile: string;
  junitPath: string;
  /** Where a preset's reporter writes `{ "<file>": ms }`, the cost of each file as the runner measured it. */
  costsPath: string;
  /** The command's environment: the base one without INPUT_*, and the SHARDLESS_* variables. */
  env: NodeJS.ProcessEnv;
}

/** Time between SIGTERM and SIGKILL on a timeout. */
const KILL_GRACE_MS = 2000;
/** Coarse file-system clocks can stamp a file slightly before Date.now() said the batch started. */
const MTIME_SLACK_MS = 1000;
/** Linux caps each argv or environment string at 128 KiB (MAX_ARG_STRLEN): spawn fails with E2BIG. */
const fitsExec = (s: string): boolean => Buffer.byteLength(s) < 128 * 1024;
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

/** Signals a whole process group; never throws (the group may be gone already). */
export function killProcessGroup(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  // -0 or -1 would signal our own group or every process we can reach.
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left to kill.
  }
}

/** Makes the batch's fresh folder (so the {junit} and costs paths are unique and not there yet) and its environment. */
export async function batchFiles(s: BatchSetup): Promise<BatchFiles> {
  const tmpDir = path.resolve(s.tmpDir);
  await fs.mkdir(tmpDir, { recursive: true });
  const dir = await fs.mkdtemp(path.join(tmpDir, `batch-${s.batchId.replace(/[^\w.-]/g, '_').slice(0, 40)}-`));
  const testsFile = path.join(dir, 'tests.txt');
  const junitPath = path.join(dir, 'junit.xml');
  const costsPath = path.join(dir, 'costs.json');
  await fs.writeFile(testsFile, s.tests.map((t) => `${t}\n`).join(''));
  const env: NodeJS.ProcessEnv = {
    ...withoutInputs(s.env ?? process.env),
    [CMD_ENV.tests]: s.tests.join('\n'),
    [CMD_ENV.testsFile]: testsFile,
    [CMD_ENV.junit]: junitPath,
    [CMD_ENV.costs]: costsPath,
    [CMD_ENV.worker]: s.workerId,
    [CMD_ENV.batch]: s.batchId,
    [CMD_ENV.isolated]: s.isolated ? 'true' : 'false',
    [CMD_ENV.attempt]: String(s.attempt),
  };
  if (s.reportsDir) {
    env[CMD_ENV.reportsDir] = path.resolve(s.reportsDir);
    // Unique per worker and batch, and a file name that actions/upload-artifact takes (no ':' and such).
    env[CMD_ENV.reportName] = `${s.workerId}-${path.basename(dir)}`.replace(/[^\w.-]/g, '_');
  }
  // A huge batch would make every spawn fail; the ids are still in the tests file.
  if (!fitsExec(`${CMD_ENV.tests}=${env[CMD_ENV.tests]}`)) {
    delete env[CMD_ENV.tests];
    process.stderr.write(`shardless: ${CMD_ENV.tests} too large for the environment, left unset; use ${CMD_ENV.testsFile}\n`);
  }
  return { dir, testsFile, junitPath, costsPath, env };
}

/** The batch's {junit} file, when the run wrote it. */
export async function written(files: BatchFiles): Promise<string[]> {
  return (await stamp(files.junitPath)) ? [files.junitPath] : [];
}

/**
 * After timeoutMs: onTimeout(), SIGTERM to the group, SIGKILL KILL_GRACE_MS later (that only matters when
 * the leader survives SIGTERM: its exit kills the rest). Returns the function that disarms both.
 */
export function armTimeout(pid: number, timeoutMs: number, onTimeout: () => void): () => void {
  let killTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    onTimeout();
    killProcessGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => killProcessGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
  }, timeoutMs);
  return () => {
    clearTimeout(timer);
    clearTimeout(killTimer);
  };
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

interface Stamp {
  mtimeMs: number;
  size: number;
}

async function stamp(file: string): Promise<Stamp | undefined> {
  try {
    const st = await fs.stat(file);
    return st.isFile() ? { mtimeMs: st.mtimeMs, size: st.size } : undefined;
  } catch {
    return undefined;
  }
}

/** Files matching the glob (relative to cwd), with their stamps. A bad glob matches nothing, loudly. */
async function statGlob(patterns: string, cwd: string): Promise<Map<string, Stamp>> {
  const found = new Map<string, Stamp>();
  try {
    const globber = await glob.create(absolutePatterns(patterns, cwd), { matchDirectories: false, implicitDescendants: false });
    for (const file of await globber.glob()) {
      const st = await stamp(file);
      if (st) found.set(file, st);
    }
  } catch (err) {
    process.stderr.write(`shardless: cannot match the junit glob '${patterns}': ${(err as Error).message}\n`);
  }
  return found;
}

/** @actions/glob resolves relative patterns against process.cwd(); ours are relative to the batch's cwd. */
function absolutePatterns(patterns: string, cwd: string): string {
  const root = globEscape(cwd);
  return patterns
    .split('\n')
    .map((line) => {
      const trimmed = line.trim();
      if (!trimmed || trimmed.startsWith('#')) return '';
      const neg = /^!+/.exec(trimmed)?.[0] ?? '';
      const p = trimmed.slice(neg.length).trim();
      if (p === '~' || p.startsWith('~/') || path.isAbsolute(p)) return neg + p;
      // path.resolve also folds the '..' segments that @actions/glob rejects.
      return neg + path.resolve(root, p);
    })
    .filter(Boolean)
    .join('\n');
}

/** Same escaping as @actions/glob's for a literal path (POSIX). */
function globEscape(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/(\[)(?=[^/]+\])/g, '[[]')
    .replace(/\?/g, '[?]')
    .replace(/\*/g, '[*]');
}
