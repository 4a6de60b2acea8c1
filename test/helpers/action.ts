// Runs the bundled action (`node dist/index.js`) the way the GitHub runner does: inputs as INPUT_* variables,
// fresh GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, RUNNER_TEMP, and nothing GITHUB_* from the host. Also
// reads the fake runner's events.log (test/fixtures/fake-runner.mjs) and kills process trees.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DIST = join(ROOT, 'dist', 'index.js');
export const FAKE_RUNNER = join(ROOT, 'test', 'fixtures', 'fake-runner.mjs');

/** POSIX single-quote quoting. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The worker `command` that runs the fake runner, with or without {junit}. */
export function fakeCommand(junit = true): string {
  return `${shq(process.execPath)} ${shq(FAKE_RUNNER)}${junit ? ' --junit {junit}' : ''} {tests}`;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ActionRun {
  name: string;
  proc: ChildProcess;
  pid: number;
  dir: string;
  startedAt: number;
  exited: Promise<Exit>;
  /** Set once the process has exited. */
  exit?: Exit;
  exitedAt?: number;
  running(): boolean;
  /** stdout and stderr, interleaved as received. */
  output(): string;
  /** The GITHUB_OUTPUT file, parsed. */
  outputs(): Record<string, string>;
  summary(): string;
}

/** Host variables the action must not see: the test says everything it gets. */
const SCRUB = [/^GITHUB_/, /^INPUT_/, /^RUNNER_/, /^ACTIONS_/, /^SHARDLESS_/, /^REDIS_URL$/, /^FAKE_STATE_DIR$/];

const started = new Set<ActionRun>();

export function inputEnv(inputs: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  // Same rule as the runner: spaces become underscores, the name is upper-cased, hyphens are kept.
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
  return env;
}

export function startAction(inputs: Record<string, string>, env: Record<string, string> = {}, opts: { name?: string; cwd?: string } = {}): ActionRun {
  const dir = tempDir('shardless-action-');
  const outputFile = join(dir, 'github_output');
  const summaryFile = join(dir, 'step_summary');
  const runnerTemp = join(dir, 'runner_temp');
  mkdirSync(runnerTemp);
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');

  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !SCRUB.some((re) => re.test(k))) base[k] = v;
  }
  const fullEnv = {
    ...base,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    RUNNER_TEMP: runnerTemp,
    ...inputEnv(inputs),
    ...env,
  };

  // detached: the action leads its own process group, so a test can kill it with everything it left behind
  // (its batches run in process groups of their own, see killBatches).
  const proc = spawn(process.execPath, [DIST], { cwd: opts.cwd ?? ROOT, env: fullEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const run: ActionRun = {
    name: opts.name ?? inputs['worker-id'] ?? inputs.mode ?? 'action',
    proc,
    pid: proc.pid!,
    dir,
    startedAt: Date.now(),
    exited: undefined as unknown as Promise<Exit>,
    running: () => run.exit === undefined,
    output: () => out,
    outputs: () => parseGithubOutput(readFileSync(outputFile, 'utf8')),
    summary: () => readFileSync(summaryFile, 'utf8'),
  };
  run.exited = new Promise<Exit>((res) => {
    proc.once('error', (err) => {
      out += `\n[spawn error] ${err.message}\n`;
    });
    // 'close', so that the output is complete when the test looks at it.
    proc.once('close', (code, signal) => {
      run.exit = { code, signal };
      run.exitedAt = Date.now();
      res(run.exit);
    });
  });
  started.add(run);
  return run;
}

/** Parses the file-command format: `name<<DELIM\nvalue\nDELIM` blocks (and plain `name=value` lines). */
export function parseGithubOutput(text: string): Record<string, string> {
  const res: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line) continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc;
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i]);
      res[name] = value.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) res[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return res;
}

/** Sends a signal to a process group (pid = its leader) and to the pid itself; never throws. */
export function killTree(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // not a group leader, or gone
  }
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

/** True when the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

// ---- the fake runner's events.log ----

export interface Runner {
  /** Index in Events.lines of its `runner` line: runners started after line N have seq >= N. */
  seq: number;
  pid: number;
  pgid: number;
  worker: string;
  ids: string[];
  env: Record<string, string>;
  /** Tests started, in order. */
  started: string[];
  ended: { id: string; outcome: string }[];
  grandchildren: number[];
  exitCode?: number;
}

export interface Events {
  lines: string[];
  runners: Runner[];
  /** Every pid the runners reported: runners and their grandchildren. */
  pids: number[];
  byPid(pid: number): Runner | undefined;
  /** Runners of a worker that started test `id` (all tests when id is omitted). */
  started(worker: string, id?: (t: string) => boolean): Runner[];
}

export function readEvents(stateDir: string): Events {
  const file = join(stateDir, 'events.log');
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const lines = text.split('\n').filter(Boolean);
  const runners = new Map<number, Runner>();
  const get = (pid: number): Runner => {
    let r = runners.get(pid);
    if (!r) {
      r = { seq: -1, pid, pgid: -1, worker: '?', ids: [], env: {}, started: [], ended: [], grandchildren: [] };
      runners.set(pid, r);
    }
    return r;
  };
  for (const [i, line] of lines.entries()) {
    let m: RegExpExecArray | null;
    if ((m = /^runner (\d+) (-?\d+) (.*)$/.exec(line))) {
      const r = get(Number(m[1]));
      r.seq = i;
      r.pgid = Number(m[2]);
      r.worker = m[3];
    } else if ((m = /^argv (\d+) (.*)$/.exec(line))) {
      get(Number(m[1])).ids = JSON.parse(m[2]);
    } else if ((m = /^env (\d+) (.*)$/.exec(line))) {
      get(Number(m[1])).env = JSON.parse(m[2]);
    } else if ((m = /^exit (\d+) (-?\d+)$/.exec(line))) {
      get(Number(m[1])).exitCode = Number(m[2]);
    } else if ((m = /^start (.*) (\d+)$/.exec(line))) {
      get(Number(m[2])).started.push(m[1]);
    } else if ((m = /^grandchild (.*) (\d+) (\d+)$/.exec(line))) {
      get(Number(m[3])).grandchildren.push(Number(m[2]));
    } else if ((m = /^end (.*) (\S+) (\d+)$/.exec(line))) {
      get(Number(m[3])).ended.push({ id: m[1], outcome: m[2] });
    }
  }
  const all = [...runners.values()];
  return {
    lines,
    runners: all,
    pids: all.flatMap((r) => [r.pid, ...r.grandchildren]),
    byPid: (pid) => runners.get(pid),
    started: (worker, id) => all.filter((r) => r.worker === worker && r.started.some((t) => (id ? id(t) : true))),
  };
}

/** SIGKILLs every batch the fake runner logged in stateDir: each runner's process group, and its grandchildren. */
export function killBatches(stateDir: string, worker?: string): void {
  for (const r of readEvents(stateDir).runners) {
    if (worker !== undefined && r.worker !== worker) continue;
    if (r.pgid > 1) killTree(r.pgid, 'SIGKILL');
    killTree(r.pid, 'SIGKILL');
    for (const g of r.grandchildren) killTree(g, 'SIGKILL');
  }
}

/** Kills a worker "with its process tree": its own node process (and group), then its batches' process groups. */
export function killWorkerTree(run: ActionRun, stateDir: string, worker: string, signal: NodeJS.Signals = 'SIGKILL'): void {
  killTree(run.pid, signal);
  for (const r of readEvents(stateDir).runners) {
    if (r.worker !== worker) continue;
    if (r.pgid > 1) killTree(r.pgid, signal);
    killTree(r.pid, signal);
    for (const g of r.grandchildren) killTree(g, signal);
  }
}

const stateDirs = new Set<string>();
const tempDirs = new Set<string>();

/** A fresh temporary directory, removed by cleanupActions (kept when E2E_KEEP is set). */
export function tempDir(prefix = 'shardless-e2e-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

/** A fresh FAKE_STATE_DIR, remembered for cleanup. */
export function makeStateDir(): string {
  const d = tempDir('shardless-fake-');
  stateDirs.add(d);
  return d;
}

/** SIGKILLs every action started since the last cleanup and every batch logged in the state dirs (for
 * afterEach; the files stay for a failing test's report, see removeTempDirs). */
export async function cleanupActions(): Promise<void> {
  const runs = [...started];
  started.clear();
  for (const r of runs) if (r.running()) killTree(r.pid, 'SIGKILL');
  for (const d of stateDirs) killBatches(d);
  stateDirs.clear();
  await Promise.race([Promise.all(runs.map((r) => r.exited)), new Promise((r) => setTimeout(r, 5000))]);
}

/** Removes the temporary directories made so far (for afterAll; kept when E2E_KEEP is set). */
export function removeTempDirs(): void {
  if (!process.env.E2E_KEEP) for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

/** The output of every action started since the last cleanup, for a failing test's message. */
export function dumpOutputs(runs: ActionRun[]): string {
  return runs
    .map((r) => `===== ${r.name} (pid ${r.pid}, exit ${JSON.stringify(r.exit ?? 'running')}) =====\n${r.output()}`)
    .join('\n');
}
