// The `shardless` command line: argument parsing into the action's inputs, help text, errors, the joined
// worker command, the text rendering of workflow commands and of the summary, and the live progress line.

import { spawnSync } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { INPUT } from '../src/names.js';
import { InputError, readInputs, type ControllerConfig, type WorkerConfig } from '../src/action/inputs.js';
import { renderCommand } from '../src/worker/batch.js';
import { INPUT_OPTIONS, UsageError, optionsOf } from '../src/cli/options.js';
import { actionInputs, describeFor, parseActionInputs } from '../src/cli/action-inputs.js';
import { getterOf, parseArgs } from '../src/cli/args.js';
import { joinCommand } from '../src/cli/command-line.js';
import { helpText } from '../src/cli/help.js';
import { optionMessage, runBatchSize } from '../src/cli/run.js';
import { progressStats } from '../src/cli/display.js';
import { EVENTS_FD_ENV, eventWriter, readEvents, type RunEvent } from '../src/cli/events.js';
import { PlainFilter, installPlainStdout, plainLine } from '../src/cli/plain.js';
import { buildReport, summaryText } from '../src/report/index.js';
import type { RunData } from '../src/types.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'shardless.js');
const ALL_INPUTS = Object.values(INPUT).filter((n) => n !== INPUT.mode);

function config(argv: string[], env: NodeJS.ProcessEnv = {}): ControllerConfig | WorkerConfig {
  return readInputs(getterOf(parseArgs(argv)), env);
}

describe('parseArgs', () => {
  test('--name value and --name=value give the inputs', () => {
    const cfg = config(['controller', '--redis-url', 'redis://h:1', '--run-id=r1', '--batch-size', '7', '--max-attempts=2',
      '--tests-file', 'list.txt', '--queue=q']) as ControllerConfig;
    expect(cfg).toMatchObject({ mode: 'controller', redisUrl: 'redis://h:1', runId: 'r1', batchSize: 7, maxAttempts: 2, testsFile: 'list.txt', queue: 'q' });
  });

  test('defaults are the action\'s', () => {
    const cfg = config(['controller', '--redis-url', 'redis://h:1', '--run-id', 'r']) as ControllerConfig;
    expect(cfg).toMatchObject({ batchSize: 10, maxAttempts: 3, retries: 0, heartbeatTtl: 30, ttl: 86400, timings: true, failOnFlaky: false, queue: 'tests' });
    const w = config(['worker', '--redis-url', 'redis://h:1', '--run-id', 'r', '--command', 'true']) as WorkerConfig;
    expect(w).toMatchObject({ mode: 'worker', shell: 'bash', junit: '', command: 'true', reportsDir: resolve('shardless-reports') });
    // readInputs owns the defaults; action.yml states them again for GitHub's UI: the two agree.
    const yml = actionInputs()!;
    const num = (name: string) => Number(yml.get(name)!.default);
    const bool = (name: string) => yml.get(name)!.default === 'true';
    expect(cfg).toMatchObject({
      batchSize: num(INPUT.batchSize), maxAttempts: num(INPUT.maxAttempts), retries: num(INPUT.retries),
      batchTimeout: num(INPUT.batchTimeout), heartbeatTtl: num(INPUT.heartbeatTtl), timeout: num(INPUT.timeout),
      noWorkerTimeout: num(INPUT.noWorkerTimeout), maxFailures: num(INPUT.maxFailures), ttl: num(INPUT.ttl),
      failOnFlaky: bool(INPUT.failOnFlaky), timings: bool(INPUT.timings), queue: yml.get(INPUT.queue)!.default,
    });
    expect(w).toMatchObject({ shell: yml.get(INPUT.shell)!.default, noWorkerTimeout: num(INPUT.noWorkerTimeout) });
    const r = config(['worker', '--redis-url', 'redis://h:1', '--run-id', 'r', '--command', 'true', '--reports-dir', 'out/rep']) as WorkerConfig;
    expect(r.reportsDir).toBe(resolve('out/rep'));
  });

  test('--tests repeats, one line each', () => {
    const p = parseArgs(['controller', '--tests', 'a.test.ts', '--tests=b dir/c.test.ts', '--tests', 'test/**/*.ts']);
    expect(getterOf(p)(INPUT.tests)).toBe('a.test.ts\nb dir/c.test.ts\ntest/**/*.ts');
  });

  test('a value may start with a dash, and hold = signs', () => {
    const p = parseArgs(['worker', '--command', '-x', '--junit=a=b.xml']);
    expect(p.values.get('command')).toBe('-x');
    expect(p.values.get('junit')).toBe('a=b.xml');
  });

  test('other options given twice: the last wins', () => {
    expect(parseArgs(['controller', '--batch-size', '1', '--batch-size', '2']).values.get('batch-size')).toBe('2');
  });

  test('on/off options: alone, with a value, and --no-', () => {
    const base = ['controller', '--redis-url', 'redis://h:1', '--run-id', 'r'];
    expect(config([...base, '--fail-on-flaky']) as ControllerConfig).toMatchObject({ failOnFlaky: true });
    expect(config([...base, '--fail-on-flaky', 'false', '--batch-size', '3']) as ControllerConfig).toMatchObject({ failOnFlaky: false, batchSize: 3 });
    expect(config([...base, '--timings=no']) as ControllerConfig).toMatchObject({ timings: false });
    expect(config([...base, '--no-timings']) as ControllerConfig).toMatchObject({ timings: false });
    // no-worker-timeout is an input of its own, not --no- of something.
    expect(config([...base, '--no-worker-timeout', '5']) as ControllerConfig).toMatchObject({ noWorkerTimeout: 5 });
  });

  test('the Redis URL falls back to SHARDLESS_REDIS_URL, then REDIS_URL, as in the action', () => {
    expect(config(['controller', '--run-id', 'r'], { REDIS_URL: 'redis://b:2' }).redisUrl).toBe('redis://b:2');
    expect(config(['controller', '--run-id', 'r'], { REDIS_URL: 'redis://b:2', SHARDLESS_REDIS_URL: 'redis://a:1' }).redisUrl).toBe('redis://a:1');
    expect(config(['controller', '--run-id', 'r', '--redis-url', 'redis://c:3'], { REDIS_URL: 'redis://b:2' }).redisUrl).toBe('redis://c:3');
  });

  test('--run-id is required outside GitHub Actions; errors name the option', () => {
    let err: unknown;
    try {
      config(['worker', '--redis-url', 'redis://h:1', '--command', 'true'], {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    expect(optionMessage((err as Error).message)).toMatch(/^Option --run-id is required outside GitHub Actions/);
    expect(config(['worker', '--redis-url', 'redis://h:1', '--command', 'true'], { GITHUB_RUN_ID: '9', GITHUB_RUN_ATTEMPT: '2' }).runId).toBe('9-2');
    expect(() => config(['controller', '--redis-url', 'redis://h:1', '--run-id', 'r', '--batch-size', 'ten'])).toThrow(/'batch-size'/);
  });

  test('words after -- : the command of run and worker, refused by controller', () => {
    const p = parseArgs(['run', '--workers', '3', '--tests', 'a', '--', 'npx', 'vitest', 'run', '--reporter=junit', '{tests}']);
    expect(p.values.get('workers')).toBe('3');
    expect(p.rest).toEqual(['npx', 'vitest', 'run', '--reporter=junit', '{tests}']);
    // Options after -- belong to the command, even ours.
    expect(parseArgs(['worker', '--', 'cmd', '--help', '--batch-size']).rest).toEqual(['cmd', '--help', '--batch-size']);
    expect(parseArgs(['worker', '--', 'cmd', '--help']).help).toBe(false);
    expect(() => parseArgs(['controller', '--', 'x'])).toThrow(UsageError);
  });

  test.each([
    [['controller', '--bogus', '1'], /unknown option '--bogus' for 'shardless controller'/],
    [['worker', '--batch-size=3'], /unknown option '--batch-size' for 'shardless worker' \(it is an option of 'shardless controller'\)/],
    [['controller', '--command', 'x'], /unknown option '--command'.*'shardless worker'/],
    [['run', '--worker-id', 'x'], /unknown option '--worker-id' for 'shardless run' \(shardless run names its workers/],
    [['controller', '--batch-sise', '3'], /did you mean --batch-size/],
    [['controller', '--mode', 'worker'], /unknown option '--mode'.*the command/],
    [['worker', '--batch-size', '3'], /unknown option '--batch-size'/],
    [['run', '--worker-index', '0'], /unknown option '--worker-index' for 'shardless run' \(shardless run names its workers/],
  ])('unknown option %j', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  test('other mistakes', () => {
    expect(() => parseArgs([])).toThrow(/missing command/);
    expect(() => parseArgs(['start'])).toThrow(/unknown command 'start'/);
    expect(() => parseArgs(['--batch-size', '3'])).toThrow(/options come after the command/);
    expect(() => parseArgs(['controller', '--batch-size'])).toThrow(/option '--batch-size' needs a value/);
    expect(() => parseArgs(['controller', '--batch-size', '--retries', '1'])).toThrow(/needs a value/);
    expect(() => parseArgs(['run', 'npx', 'vitest'])).toThrow(/unexpected argument 'npx'.*after '--'/);
  });

  test('--help, anywhere before --', () => {
    expect(parseArgs(['worker', '--redis-url', 'x', '--help']).help).toBe(true);
    expect(parseArgs(['run', '-h']).help).toBe(true);
  });
});

describe('options and action.yml', () => {
  const yml = actionInputs();

  test('action.yml is read, and its inputs are the INPUT names', () => {
    expect(yml).not.toBeNull();
    expect([...yml!.keys()].sort()).toEqual(Object.values(INPUT).sort());
  });

  test('every input but mode is an option; each command takes the inputs of its role', () => {
    expect(INPUT_OPTIONS.map((o) => o.name).sort()).toEqual([...ALL_INPUTS].sort());
    for (const o of INPUT_OPTIONS) {
      // The role agrees with action.yml's "Controller:" / "Worker:" descriptions.
      const d = yml!.get(o.name)!.description;
      const role = /^Controller: /.test(d) && !/ Worker: /.test(d) ? 'controller' : /^Worker: /.test(d) ? 'worker' : 'common';
      expect(o.role, o.name).toBe(role);
      // On/off options are the inputs whose default is true or false.
      expect(o.flag, o.name).toBe(['true', 'false'].includes(yml!.get(o.name)!.default));
    }
    const names = (c: 'controller' | 'worker' | 'run') => optionsOf(c).map((o) => o.name);
    expect(names('controller')).toContain(INPUT.batchSize);
    expect(names('controller')).not.toContain(INPUT.command);
    expect(names('worker')).toContain(INPUT.workerId);
    // The worker lists the tests as the controller does, for its static share when Redis is unreachable.
    expect(names('worker')).toEqual(expect.arrayContaining([INPUT.tests, INPUT.testsFile, INPUT.testsCommand, INPUT.workers, INPUT.workerIndex, INPUT.timingsFile]));
    expect(names('worker')).not.toContain(INPUT.timingsOutput);
    expect(names('run')).toEqual(expect.arrayContaining(['workers', ...ALL_INPUTS.filter((n) => n !== INPUT.workerId && n !== INPUT.workerIndex)]));
  });

  test('help text lists every input, with its default', () => {
    const ctl = helpText('controller', 100);
    const wrk = helpText('worker', 100);
    const run = helpText('run', 100);
    for (const name of ALL_INPUTS) {
      expect(`${ctl}\n${wrk}`, name).toMatch(new RegExp(`^  --${name} `, 'm'));
      if (name !== INPUT.workerId && name !== INPUT.workerIndex) expect(run, name).toMatch(new RegExp(`^  --${name} `, 'm'));
    }
    for (const o of optionsOf('controller')) expect(ctl).toContain(`--${o.name} `);
    for (const o of optionsOf('worker')) expect(wrk).toContain(`--${o.name} `);
    expect(run).toMatch(/^ {2}--workers <N>/m);
    // One name, two meanings: run's --workers starts workers (and tells its controller); the
    // controller's is the action input, the count to expect.
    expect(run).toMatch(/--workers <N>\s+How many workers to start/);
    expect(ctl).toMatch(/--workers <N>\s+How many workers the run expects[\s\S]*?\[default: 0\]/);
    expect(optionsOf('run').filter((o) => o.name === 'workers')).toHaveLength(1);
    // Defaults come from action.yml.
    expect(ctl).toMatch(/--batch-size <value>\s+Most tests in one batch from the primary queue\. \[default: 10\]/);
    expect(ctl).toMatch(/--heartbeat-ttl[\s\S]*?\[default: 30\]/);
    expect(wrk).toMatch(/--shell[\s\S]*?\[default: bash\]/);
    expect(run).toMatch(/--run-id[\s\S]*?\[default: local-<timestamp>\]/);
    // Each command gets its own part of a two-role description.
    expect(ctl).toMatch(/--no-worker-timeout <value>\s+Seconds it waits with work left and no live worker/);
    expect(wrk).toMatch(/--no-worker-timeout <value>\s+Seconds it waits for the controller to start the run/);
    const top = helpText('top', 100);
    for (const c of ['controller', 'worker', 'run']) expect(top).toContain(`  ${c} `);
  });

  test('describeFor and the action.yml reader', () => {
    expect(describeFor('Controller: a. Worker: b.', 'worker')).toBe('B.');
    expect(describeFor('Controller: a. Worker: b.', 'controller')).toBe('A.');
    expect(describeFor('Worker: shell.', 'worker')).toBe('shell.');
    expect(describeFor('A preset. Controller: lists. Worker: runs.', 'worker')).toBe('A preset. Runs.');
    expect(describeFor('A preset. Controller: lists. Worker: runs.', 'run')).toBe('A preset. Controller: lists. Worker: runs.');
    const m = parseActionInputs([
      'name: x', 'inputs:', '  a-b:', '    description: "say \\"hi\\""', '    required: true', '  c:', '    description: >', '      one', '      two',
      "    default: 'it''s'", 'outputs:', '  o:', '    description: no',
    ].join('\n'));
    expect([...m.keys()]).toEqual(['a-b', 'c']);
    expect(m.get('a-b')).toEqual({ description: 'say "hi"', default: '', required: true });
    expect(m.get('c')).toEqual({ description: 'one two', default: "it's", required: false });
  });
});

describe('run: batch size', () => {
  const size = (args: string[], batchSize: number, tests: number, workers: number) =>
    runBatchSize(parseArgs(['run', ...args, '--', 'true']), { batchSize } as ControllerConfig, tests, workers);

  test('by default, the default cut to ceil(tests / workers): every worker gets work', () => {
    expect(size([], 10, 12, 4)).toBe(3);
    expect(size([], 10, 13, 4)).toBe(4);
    expect(size([], 10, 2, 4)).toBe(1);
    expect(size([], 10, 1000, 4)).toBe(10);
  });

  test('a batch-size or batch-duration the user gave is kept', () => {
    expect(size(['--batch-size', '10'], 10, 12, 4)).toBe(10);
    expect(size(['--batch-duration', 'auto'], 10, 12, 4)).toBe(10);
    expect(size(['--batch-duration=30', '--batch-size=50'], 50, 12, 4)).toBe(50);
  });
});

describe('joinCommand', () => {
  test('words are shell-quoted where needed; placeholders stay bare', () => {
    expect(joinCommand(['npx', 'vitest', 'run', '--reporter=junit', '--outputFile={junit}', '{tests}']))
      .toBe('npx vitest run --reporter=junit --outputFile={junit} {tests}');
    expect(joinCommand(['node', 'my file.mjs', "it's", '', '$HOME', 'a;b'])).toBe(`node 'my file.mjs' 'it'\\''s' '' '$HOME' 'a;b'`);
    expect(joinCommand(['run', 'x {tests} y'])).toBe(`run 'x '{tests}' y'`);
  });

  test('one word holding a space is a shell command as it is', () => {
    expect(joinCommand(['npm test -- {tests} && echo done'])).toBe('npm test -- {tests} && echo done');
  });

  test('rendered and run by bash, every word and id arrives intact', () => {
    const words = ['printf', '[%s]', "it's", 'a  b', '$HOME', '--out={junit}', '{tests}'];
    const script = renderCommand(joinCommand(words), ['x y', `q'"z`], '/tmp/list', '/tmp/j u.xml');
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(r.stdout).toBe(`[it's][a  b][$HOME][--out=/tmp/j u.xml][x y][q'"z]`);
  });
});

describe('plain text output', () => {
  test('workflow commands become plain lines or nothing', () => {
    expect(plainLine('::error::boom%0Anext')).toBe('error: boom\nnext');
    expect(plainLine('::warning::careful')).toBe('warning: careful');
    expect(plainLine('::error title=t,file=a/b.ts,line=3::expected 1%25')).toBe('error: a/b.ts:3: t: expected 1%');
    expect(plainLine('::group::batch 1')).toBe('batch 1');
    expect(plainLine('::endgroup::')).toBeNull();
    expect(plainLine('::add-mask::s3cret')).toBeNull();
    expect(plainLine('::set-output name=total::3')).toBeNull();
    expect(plainLine('plain :: text')).toBe('plain :: text');
  });

  test('stop-commands markers are dropped, and what is between them kept', () => {
    const f = new PlainFilter();
    expect(['::stop-commands::tok1', '  a.test.ts', '::tok1::', '::tok1::', '::group::g'].map((l) => f.line(l)))
      .toEqual([null, '  a.test.ts', null, '::tok1::', 'g']);
  });

  test('installPlainStdout drops outputs (and the newline before them) and masks', () => {
    const got: string[] = [];
    const fake = { write: (c: string) => (got.push(c), true) } as unknown as NodeJS.WriteStream;
    installPlainStdout(fake);
    fake.write('hello\n');
    fake.write('\n');
    fake.write('::set-output name=total::3\n');
    fake.write('::add-mask::pw\n');
    fake.write('\n');
    fake.write('kept after a blank line\n');
    fake.write('::error::failed\n');
    expect(got.join('')).toBe('hello\n\nkept after a blank line\nerror: failed\n');
  });

  test('the summary as text, from the report data: counts table, failures with their message, no timeline, no markup', () => {
    const T0 = 1_700_000_000_000;
    const failure = 'AssertionError: expected "spec/cart/fail-checkout.test.ts" to pass\n    at spec/cart/fail-checkout.test.ts:3:9';
    const data: RunData = {
      queue: 'tests', run: '4242424242-1', state: 'complete', abortReason: '', seededAtMs: T0, completedAtMs: T0 + 6_900, nowMs: T0 + 7_000,
      tests: [
        { id: 'spec/cart/fail-checkout.test.ts', status: 'failed' },
        { id: 'spec/api/pass-health.test.ts', status: 'passed' },
        { id: 'spec/*weird*_id_|x|.test.ts', status: 'passed' },
      ],
      history: [
        { t: 'spec/cart/fail-checkout.test.ts', w: 'w1', b: 'b1', i: false, o: 'failed', d: 120, m: failure, s: T0 + 100, e: T0 + 220 },
        { t: 'spec/api/pass-health.test.ts', w: 'w2', b: 'b2', i: false, o: 'passed', d: 80, m: '', s: T0 + 100, e: T0 + 180 },
        { t: 'spec/*weird*_id_|x|.test.ts', w: 'w2', b: 'b2', i: false, o: 'passed', d: 90, m: '', s: T0 + 180, e: T0 + 270 },
      ],
      workers: [
        { id: 'w1', state: 'alive', batches: 1, tests: 1, busyMs: 300, lostBatches: 0 },
        { id: 'w2', state: 'alive', batches: 1, tests: 2, busyMs: 400, lostBatches: 0 },
      ],
      batches: [
        { id: 'b1', worker: 'w1', startMs: T0 + 100, endMs: T0 + 220, isolated: false, firstOnRunner: false, tests: ['spec/cart/fail-checkout.test.ts'], state: 'done' },
        { id: 'b2', worker: 'w2', startMs: T0 + 100, endMs: T0 + 270, isolated: false, firstOnRunner: false, tests: ['spec/api/pass-health.test.ts', 'spec/*weird*_id_|x|.test.ts'], state: 'done' },
      ],
    };
    const text = summaryText({ report: buildReport(data), data });
    expect(text).toMatch(/^shardless: tests 4242424242-1 — ❌ failed\n=+\n/);
    expect(text).toMatch(/^ {2}total +passed +failed +flaky +lost +skipped +not run$/m);
    expect(text).toMatch(/^ {2} +3 +2 +1 +0 +0 +0 +0$/m);
    expect(text).toContain('Wall time: 6.9 s · Workers: 2');
    expect(text).toContain('- spec/cart/fail-checkout.test.ts — AssertionError: expected "spec/cart/fail-checkout.test.ts" to pass');
    expect(text).toContain('    AssertionError: expected "spec/cart/fail-checkout.test.ts" to pass\n        at spec/cart/fail-checkout.test.ts:3:9');
    expect(text).toMatch(/^ {2}spec\/\*weird\*_id_\|x\|\.test\.ts +90 ms +passed$/m);
    expect(text).not.toMatch(/mermaid|gantt|Timeline|<details>|<pre>|&#|\*\*|`|\\/);
  });

  test('the live progress line, from the controller progress figures', () => {
    expect(progressStats({ done: 3, total: 12, running: 2, queued: 5, requeued: 1, live: 3, leftMs: 4_000 }))
      .toBe('3/12 done · 2 running · 6 queued · 3 live workers · about 4 s left');
    expect(progressStats({ done: 0, total: 1, running: 0, queued: 1, requeued: 0, live: 1, leftMs: null }))
      .toBe('0/1 done · 0 running · 1 queued · 1 live workers');
  });
});

describe('run: the controller events', () => {
  test('what the controller writes on its events descriptor, run reads back as data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardless-events-'));
    try {
      const fd = openSync(join(dir, 'events'), 'w');
      const env: NodeJS.ProcessEnv = { [EVENTS_FD_ENV]: String(fd) };
      const send = eventWriter(env)!;
      // Taken once: the test commands the controller starts do not inherit it.
      expect(env[EVENTS_FD_ENV]).toBeUndefined();
      const sent: RunEvent[] = [
        { progress: { done: 1, total: 2, running: 1, queued: 0, requeued: 0, live: 1, leftMs: null } },
        { end: { text: 'summary\n', counts: 'shardless: 2 tests: ...', reason: '1 test failed: a' } },
      ];
      for (const e of sent) send(e);
      closeSync(fd);
      const got: RunEvent[] = [];
      const stream = createReadStream(join(dir, 'events'));
      const done = new Promise<void>((res) => stream.on('close', () => res()));
      readEvents(stream, (e) => got.push(e));
      await done;
      expect(got).toEqual(sent);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a controller not started by run has no events to write', () => {
    expect(eventWriter({})).toBeNull();
  });
});

describe('bin/shardless.js', () => {
  const cli = (...args: string[]) => {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'index.js'))) throw new Error('dist/cli/index.js does not exist: run `npm run build` first');
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (/^(GITHUB_|RUNNER_|INPUT_|SHARDLESS_)|^REDIS_URL$/.test(k)) delete env[k];
    return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, cwd: ROOT, timeout: 20_000 });
  };

  test('unknown option: one line naming it, exit 2', () => {
    const r = cli('worker', '--redis-url', 'redis://127.0.0.1:1', '--frobnicate', 'x');
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe("shardless: unknown option '--frobnicate' for 'shardless worker'; see 'shardless worker --help'");
    expect(r.stdout).toBe('');
  });

  test('--help of every command lists its options, exit 0', () => {
    for (const c of ['controller', 'worker', 'run']) {
      const r = cli(c, '--help');
      expect(r.status, c).toBe(0);
      expect(r.stdout).toContain(`Usage: shardless ${c}`);
      for (const o of optionsOf(c as 'controller')) expect(r.stdout, `${c} --${o.name}`).toContain(`--${o.name} `);
      expect(r.stdout).toContain('[default:');
    }
    const top = cli('--help');
    expect(top.status).toBe(0);
    expect(top.stdout).toContain('Usage: shardless <command>');
    expect(cli().status).toBe(2);
  });

  test("--version prints package.json's version, exit 0", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const r = cli(flag);
      expect(r.status, flag).toBe(0);
      expect(r.stdout, flag).toBe(`${version}\n`);
    }
  });

  test('invalid values and a missing run id: exit 2, naming the option, without workflow commands', () => {
    const r = cli('controller', '--redis-url', 'redis://127.0.0.1:1', '--tests', 'a');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^shardless controller: Option --run-id is required outside GitHub Actions/);
    const bad = cli('controller', '--redis-url', 'http://x', '--run-id', 'r', '--tests', 'a');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Option --redis-url must start with redis:\/\//);
    const missing = cli('run', '--tests', 'a');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/the test command is missing/);
    const none = cli('run', '--', 'true');
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no tests: give them with --tests/);
    expect(`${r.stdout}${bad.stdout}`).not.toContain('::');
  });

  test('run without redis-server on the PATH and no URL: how to install it, exit 1', () => {
    const env = { PATH: '/nonexistent', HOME: process.env.HOME ?? '/tmp' };
    const r = spawnSync(process.execPath, [BIN, 'run', '--workers', '2', '--tests', 'a', '--', 'true'], { encoding: 'utf8', env, cwd: ROOT, timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no redis-server found');
    expect(r.stderr).toContain('sudo apt-get install redis-server');
    expect(r.stderr).toContain('brew install redis');
  });
});
