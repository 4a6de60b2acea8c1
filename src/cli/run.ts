// `shardless run`: a local parallel run. A controller and N workers, each a child process of this one
// (`node <this bundle> controller ...` / `worker ...`, so that signals and exit codes stay separate),
// on --redis-url/SHARDLESS_REDIS_URL/REDIS_URL or on a throwaway redis-server. Their output is
// prefixed with their name; on a terminal a live progress line (from the controller's progress events,
// events.ts) stays at the bottom. At the end: the controller's summary as text, and its exit status.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, readInputs, shown, type ControllerConfig, type Getter } from '../action/inputs.js';
import { ENV, INPUT } from '../names.js';
import { INPUT_OPTIONS, UsageError } from './options.js';
import { getterOf, type Parsed } from './args.js';
import { joinCommand } from './command-line.js';
import { INSTALL_HINT, findRedisServer, startRedis, type ThrowawayRedis } from './redis-server.js';
import { PlainFilter } from './plain.js';
import { EVENTS_FD, EVENTS_FD_ENV, eachLine, readEvents, type EndEvent } from './events.js';
import { Display, progressStats } from './display.js';
import { listTests } from '../presets/testlist.js';

/** Set in the environment of the children: they stop (as on SIGTERM) when this process goes away. */
export const PARENT_ENV = 'SHARDLESS_RUN_PARENT';

/** After the controller ends, how long workers get to notice before they are stopped. */
const WORKERS_GRACE_MS = 10_000;
/** After every worker ended with the controller still running, how long before it is stopped. */
const CONTROLLER_GRACE_MS = 3_000;
/** After a stop signal, how long children get before SIGKILL (a worker hands back within 5 s). */
const KILL_AFTER_MS = 8_000;

/** Input errors name the input; on the command line, the option. */
export function optionMessage(message: string): string {
  return message.replace(/Inputs? '([a-z-]+)'(?: and '([a-z-]+)')?/g, (_, a: string, b?: string) =>
    b ? `options --${a} and --${b}` : `option --${a}`).replace(/^option/, 'Option');
}

function positiveInt(name: string, raw: string, max: number): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || Number(raw) > max) {
    throw new UsageError(`option '--${name}' must be a whole number from 1 to ${max}, got '${shown(raw)}'`);
  }
  return Number(raw);
}

interface Child {
  name: string;
  proc: ChildProcess;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  exited: Promise<void>;
}

/** The tests `run` lists itself and hands to the controller as a file (see runLocal). */
const TEST_SOURCES: string[] = [INPUT.tests, INPUT.testsFile, INPUT.testsCommand];

/**
 * The batch size of a run: the one given, else the default cut to ceil(tests / workers), so that even
 * a small suite gives every worker work (12 tests over 4 workers: batches of 3, not 10 and 2).
 * With batch-duration given, batches are sized by estimated work and batch-size is only their cap.
 */
export function runBatchSize(p: Parsed, cfg: ControllerConfig, tests: number, workers: number): number {
  if (p.values.has(INPUT.batchSize) || p.values.has(INPUT.batchDuration)) return cfg.batchSize;
  return Math.max(1, Math.min(cfg.batchSize, Math.ceil(tests / workers)));
}

/** The options given to `run` that a child takes (those `run` sets itself excepted). */
function optionArgs(p: Parsed, roles: string[]): string[] {
  const args: string[] = [];
  const own: string[] = [INPUT.redisUrl, INPUT.runId, INPUT.command, INPUT.workerId, INPUT.workerIndex, INPUT.workers, INPUT.batchSize, ...TEST_SOURCES];
  for (const o of INPUT_OPTIONS) {
    const v = p.values.get(o.name);
    if (v !== undefined && roles.includes(o.role) && !own.includes(o.name)) args.push(`--${o.name}=${v}`);
  }
  return args;
}

export async function runLocal(p: Parsed, bundle = fileURLToPath(import.meta.url)): Promise<number> {
  const env = process.env;
  const workers = p.values.has('workers') ? positiveInt('workers', p.values.get('workers')!, 256) : availableParallelism();
  const fromDash = p.rest && p.rest.length > 0 ? joinCommand(p.rest) : '';
  if (fromDash && p.values.get(INPUT.command)) throw new UsageError(`give the command either after '--' or with --${INPUT.command}, not both`);
  const command = fromDash || p.values.get(INPUT.command)?.trim() || '';
  // A runner preset (--runner vitest, say) lists the tests and gives the command when they are not given.
  const preset = (p.values.get('runner') ?? '').trim().toLowerCase();
  const hasPreset = preset !== '' && preset !== 'custom';
  if (!command && !hasPreset) throw new UsageError(`the test command is missing: shardless run [options] -- <command...>; see 'shardless run --help'`);
  if (!hasPreset && !TEST_SOURCES.some((n) => p.values.get(n)?.trim())) {
    throw new UsageError(`no tests: give them with --${INPUT.tests} (ids or globs, repeatable), --${INPUT.testsFile} or --${INPUT.testsCommand}`);
  }
  const runId = p.values.get(INPUT.runId)?.trim() || `local-${Date.now()}`;
  const givenUrl = p.values.get(INPUT.redisUrl)?.trim() || env[ENV.redisUrl]?.trim() || env[ENV.redisUrlFallback]?.trim() || '';

  // Every option is checked here, before anything starts: the children would only fail one by one.
  let ctl: ControllerConfig | undefined;
  for (const mode of ['controller', 'worker'] as const) {
    const base = getterOf(p, mode);
    const get: Getter = (name) =>
      name === INPUT.redisUrl ? givenUrl || 'redis://127.0.0.1:6379' : name === INPUT.runId ? runId : name === INPUT.command ? command : base(name);
    try {
      const cfg = readInputs(get, {});
      if (cfg.mode === 'controller') ctl = cfg;
    } catch (e) {
      if (e instanceof InputError) throw new UsageError(optionMessage(e.message));
      throw e;
    }
  }
  // The tests are listed here, once: their count sizes the batches, and the controller gets them as a file.
  const tests = await listTests(ctl!);
  const batchSize = runBatchSize(p, ctl!, tests.length, workers);

  const out = process.stdout;
  let redis: ThrowawayRedis | null = null;
  let url = givenUrl;
  if (!url) {
    const binary = findRedisServer();
    if (!binary) {
      process.stderr.write(`shardless run: ${INSTALL_HINT}\n`);
      return 1;
    }
    redis = await startRedis(binary);
    url = redis.url;
    out.write(`shardless run: started ${binary} on 127.0.0.1:${redis.port} (pid ${redis.pid}), stopped at the end\n`);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'shardless-run-'));
  const testsFile = join(tmp, 'tests.txt');
  writeFileSync(testsFile, `${tests.join('\n')}\n`);
  const cleanup = () => {
    redis?.kill();
    rmSync(tmp, { recursive: true, force: true });
  };
  process.once('exit', cleanup);

  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  out.write(`shardless run: run ${runId}, ${plural(tests.length, 'test')} in batches of up to ${batchSize}, ${plural(workers, 'worker')}, command: ${command || `(the ${preset} preset's)`}\n`);

  const children: Child[] = [];
  const names = ['controller', ...Array.from({ length: workers }, (_, i) => `w${i + 1}`)];
  const width = Math.max(...names.map((n) => n.length));
  const display = new Display(out, () => children.filter((c) => c.name !== 'controller' && !c.exit).length, workers);
  // The controller's end (summary as text, counts line, reason), from its events.
  const controllerEnd: { event: EndEvent | null } = { event: null };

  const start = (name: string, index: number, args: string[], childEnv: NodeJS.ProcessEnv): Child => {
    const proc = spawn(process.execPath, [bundle, ...args], {
      env: { ...childEnv, [PARENT_ENV]: String(process.pid) },
      // Their own process groups: Ctrl-C reaches this process only, which forwards it (once).
      detached: true,
      // The controller's events come on a pipe of their own (events.ts).
      stdio: name === 'controller' ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
    });
    if (name === 'controller') {
      readEvents(proc.stdio[EVENTS_FD] as Readable, (e) => {
        if ('progress' in e) display.setStats(progressStats(e.progress));
        else if ('end' in e) controllerEnd.event = e.end;
      });
    }
    proc.stdin!.on('error', () => {});
    const prefix = display.paint(`[${name}]`.padEnd(width + 2), index);
    const filter = new PlainFilter();
    const onLine = (raw: string) => {
      const line = filter.line(raw.replace(/\r$/, ''));
      if (line === null) return;
      display.line(`${prefix} ${line}`);
    };
    for (const s of [proc.stdout!, proc.stderr!]) eachLine(s, onLine);
    const child: Child = { name, proc, exited: Promise.resolve() };
    child.exited = new Promise<void>((res) => {
      proc.once('error', (e) => {
        display.line(`${prefix} could not start: ${e.message}`);
        child.exit ??= { code: 127, signal: null };
        res();
      });
      proc.once('close', (code, signal) => {
        child.exit ??= { code, signal };
        res();
      });
    });
    children.push(child);
    return child;
  };

  const common = ['--redis-url', url, '--run-id', runId];
  // The controller writes the markdown summary to GITHUB_STEP_SUMMARY when there is one.
  const controllerEnv: NodeJS.ProcessEnv = { ...env, [EVENTS_FD_ENV]: String(EVENTS_FD) };
  const workerEnv: NodeJS.ProcessEnv = { ...env };
  delete workerEnv.GITHUB_OUTPUT;
  delete workerEnv.GITHUB_STEP_SUMMARY;
  const controller = start('controller', 0, ['controller', ...optionArgs(p, ['common', 'controller']), `--${INPUT.workers}=${workers}`,
    `--${INPUT.testsFile}=${testsFile}`, `--${INPUT.batchSize}=${batchSize}`, ...common], controllerEnv);
  const workerChildren = Array.from({ length: workers }, (_, i) =>
    start(`w${i + 1}`, i + 1, ['worker', ...optionArgs(p, ['common', 'worker']), ...common, '--worker-id', `w${i + 1}`, '--command', command,
      // Their static shares, should the Redis given go away (README, "When Redis is down").
      `--${INPUT.workers}=${workers}`, `--${INPUT.workerIndex}=${i}`, `--${INPUT.testsFile}=${testsFile}`], workerEnv));

  const signalChild = (c: Child, sig: NodeJS.Signals) => {
    if (c.exit || c.proc.pid === undefined) return;
    try {
      // The child itself: a worker kills its batch's process group and hands its tests back.
      process.kill(c.proc.pid, sig);
    } catch {
      // gone
    }
  };
  const killChild = (c: Child) => {
    if (c.exit || c.proc.pid === undefined) return;
    for (const pid of [-c.proc.pid, c.proc.pid]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };
  const timers: NodeJS.Timeout[] = [];
  const later = (ms: number, fn: () => void) => timers.push(setTimeout(fn, ms));

  // Ctrl-C (or SIGTERM/SIGHUP): forward SIGINT to the children, which stop and write what they can;
  // a second one, or KILL_AFTER_MS, kills them.
  let interrupted: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) {
      display.line(`shardless run: ${sig} again: killing everything`);
      children.forEach(killChild);
      return;
    }
    interrupted = sig;
    display.line(`shardless run: ${sig}: stopping the controller and the workers (again to kill them)`);
    for (const c of children) signalChild(c, 'SIGINT');
    later(KILL_AFTER_MS, () => children.forEach(killChild));
  };
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of sigs) process.on(s, onSignal);

  // The controller ended: workers see the run complete within seconds; stop those that do not.
  void controller.exited.then(() => {
    later(WORKERS_GRACE_MS, () => {
      const left = workerChildren.filter((c) => !c.exit);
      if (left.length === 0) return;
      display.line(`shardless run: the controller has ended; stopping ${left.map((c) => c.name).join(', ')}`);
      for (const c of left) signalChild(c, 'SIGTERM');
      later(KILL_AFTER_MS, () => left.forEach(killChild));
    });
  });
  // Every worker ended with the controller still waiting: nothing would ever run its tests.
  void Promise.all(workerChildren.map((c) => c.exited)).then(() => {
    later(CONTROLLER_GRACE_MS, () => {
      if (controller.exit || interrupted) return;
      display.line('shardless run: every worker has ended before the run was complete; stopping the controller');
      signalChild(controller, 'SIGINT');
      later(KILL_AFTER_MS, () => killChild(controller));
    });
  });

  await Promise.all(children.map((c) => c.exited));
  timers.forEach(clearTimeout);
  display.done();
  for (const s of sigs) process.off(s, onSignal);
  if (redis) await redis.stop();

  const ending = controllerEnd.event;
  if (ending) out.write(`\n${ending.text}\n${ending.counts ? `${ending.counts}\n` : ''}`);
  const reason = ending?.reason ?? '';
  const workerCodes = workerChildren.map((c) => `${c.name} ${c.exit?.code ?? c.exit?.signal ?? '?'}`).join(', ');
  const code = controller.exit?.code ?? 1;
  if (interrupted) {
    out.write(`shardless run: interrupted by ${interrupted} (controller exit ${controller.exit?.code ?? controller.exit?.signal}; workers: ${workerCodes})\n`);
    cleanup();
    return interrupted === 'SIGINT' ? 130 : interrupted === 'SIGHUP' ? 129 : 143;
  }
  out.write(code === 0
    ? `shardless run: passed (workers: ${workerCodes})\n`
    : `shardless run: failed${reason ? `: ${reason}` : ''} (controller exit ${controller.exit?.code ?? controller.exit?.signal}; workers: ${workerCodes})\n`);
  cleanup();
  return code;
}
