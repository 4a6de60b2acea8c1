import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { BatchRun, renderCommand, shellQuote, type BatchSpec } from '../src/worker/batch.js';
import { killProcessGroup } from '../src/worker/process.js';
import { waitFor } from './helpers/redis-server.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'shardless-batch-test-'));
let dir: string;
let n = 0;

beforeEach(() => {
  dir = path.join(root, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

// Prints its argv (after the script) as JSON into $OUT.
const ARGV_SCRIPT = path.join(root, 'argv.cjs');
writeFileSync(ARGV_SCRIPT, "require('fs').writeFileSync(process.env.OUT, JSON.stringify(process.argv.slice(2)));\n");

function spec(over: Partial<BatchSpec>): BatchSpec {
  return {
    command: 'true',
    shell: 'bash',
    cwd: dir,
    tests: [],
    workerId: 'w1',
    batchId: 'b1',
    isolated: false,
    attempt: 1,
    timeoutMs: 0,
    junitGlob: '',
    tmpDir: path.join(dir, 'tmp'),
    env: { ...process.env, OUT: path.join(dir, 'out.json') },
    ...over,
  };
}

const readOut = (): unknown => JSON.parse(readFileSync(path.join(dir, 'out.json'), 'utf8'));

/** A pid is gone when it no longer exists or is a zombie (a sandbox's init may never reap orphans). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const readPids = (file: string): number[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(Number)
    : [];

const HOSTILE = [
  'plain',
  'with space',
  "it's",
  '"double" quotes',
  "'",
  "''",
  '$(touch PWNED1)',
  '`touch PWNED2`',
  '; touch PWNED3',
  '$HOME ${PATH}',
  'line1\nline2',
  'tab\there',
  '\\back\\slash\\',
  '*',
  '-n',
  '!',
  '{junit}',
  '{tests}',
  'ünïcødé 测试 🚀',
  'x'.repeat(10_000),
];

describe('shellQuote / renderCommand', () => {
  it('quotes so that bash reads back exactly the same strings', () => {
    for (const s of [...HOSTILE, '']) {
      const out = execFileSync('bash', ['-c', `printf '%s' ${shellQuote(s)}`], { encoding: 'utf8' });
      expect(out).toBe(s);
    }
  });

  it('replaces every placeholder, several times, in one pass', () => {
    const r = renderCommand('x {tests} {tests} -f {tests-file} -o {junit} {junit}', ['a b', '{junit}'], '/t/f', '/t/j');
    expect(r).toBe(`x 'a b' '{junit}' 'a b' '{junit}' -f '/t/f' -o '/t/j' '/t/j'`);
  });

  it('appends the ids when neither {tests} nor {tests-file} is there', () => {
    expect(renderCommand('run --out {junit}', ['a', "b'c"], '/f', '/j')).toBe(`run --out '/j' 'a' 'b'\\''c'`);
    expect(renderCommand('run {tests-file}', ['a'], '/f', '/j')).toBe(`run '/f'`);
    expect(renderCommand('run', [], '/f', '/j')).toBe('run');
  });
});

describe('BatchRun', () => {
  it('passes hostile ids as exactly those argv entries', async () => {
    const out = await new BatchRun(spec({ command: `node ${shellQuote(ARGV_SCRIPT)} {tests}`, tests: HOSTILE })).start();
    expect(out).toMatchObject({ exitCode: 0, signal: null, timedOut: false, cancelled: false, usesJUnit: false });
    expect(readOut()).toEqual(HOSTILE);
    for (const f of ['PWNED1', 'PWNED2', 'PWNED3']) expect(existsSync(path.join(dir, f))).toBe(false);
  });

  it('appends the ids when the command has no tests placeholder', async () => {
    const out = await new BatchRun(spec({ command: `node ${shellQuote(ARGV_SCRIPT)} --`, tests: HOSTILE })).start();
    expect(out.exitCode).toBe(0);
    expect(readOut()).toEqual(['--', ...HOSTILE]);
  });

  it('still runs a batch too large for one argv or environment string', async () => {
    const tests = Array.from({ length: 20 }, (_, i) => `${i}-${'y'.repeat(10_000)}`);
    const command = `node ${shellQuote(ARGV_SCRIPT)} {tests}; cp "$SHARDLESS_TESTS_FILE" got.txt`;
    const out = await new BatchRun(spec({ command, tests })).start();
    expect(out.exitCode).toBe(0);
    expect(readOut()).toEqual(tests);
    expect(readFileSync(path.join(dir, 'got.txt'), 'utf8')).toBe(tests.map((t) => `${t}\n`).join(''));
  });

  it('writes {tests-file} with one id a line and does not append the ids', async () => {
    const tests = ['a b', "c'd", 'ü'];
    const out = await new BatchRun(
      spec({ command: `cp {tests-file} got.txt && node ${shellQuote(ARGV_SCRIPT)} {tests-file}`, tests }),
    ).start();
    expect(out.exitCode).toBe(0);
    expect(readFileSync(path.join(dir, 'got.txt'), 'utf8')).toBe('a b\nc\'d\nü\n');
    const argv = readOut() as string[];
    expect(argv).toHaveLength(1);
    expect(argv[0].startsWith(path.join(dir, 'tmp'))).toBe(true);
  });

  it('gives the command its environment', async () => {
    const dump =
      "const fs=require('fs');const e=process.env;" +
      'fs.writeFileSync(e.OUT, JSON.stringify({env: Object.fromEntries(Object.entries(e).filter(([k]) => k.startsWith("SHARDLESS_") || k === "BASE")),' +
      ' file: fs.readFileSync(e.SHARDLESS_TESTS_FILE, "utf8"), junitExists: fs.existsSync(e.SHARDLESS_JUNIT), cwd: process.cwd()}))';
    writeFileSync(path.join(dir, 'dump.cjs'), dump);
    const run = (batchId: string) =>
      new BatchRun(
        spec({
          command: 'node dump.cjs',
          tests: ['t1', 't 2'],
          workerId: 'w7',
          batchId,
          isolated: true,
          attempt: 3,
          env: { PATH: process.env.PATH, OUT: path.join(dir, 'out.json'), BASE: 'kept' },
        }),
      ).start();
    await run('lease-42');
    const got = readOut() as { env: Record<string, string>; file: string; junitExists: boolean; cwd: string };
    expect(got.env).toMatchObject({
      BASE: 'kept',
      SHARDLESS_TESTS: 't1\nt 2',
      SHARDLESS_WORKER: 'w7',
      SHARDLESS_BATCH: 'lease-42',
      SHARDLESS_ISOLATED: 'true',
      SHARDLESS_ATTEMPT: '3',
    });
    expect(got.file).toBe('t1\nt 2\n');
    expect(got.junitExists).toBe(false);
    expect(got.cwd).toBe(dir);
    expect(got.env.SHARDLESS_JUNIT.startsWith(path.join(dir, 'tmp'))).toBe(true);
    await run('lease-43');
    const again = readOut() as typeof got;
    expect(again.env.SHARDLESS_JUNIT).not.toBe(got.env.SHARDLESS_JUNIT);
    expect(again.env.SHARDLESS_ISOLATED).toBe('true');
    // Without reports-dir, nothing of reports.
    expect(got.env.SHARDLESS_REPORTS_DIR).toBeUndefined();
    expect(got.env.SHARDLESS_REPORT_NAME).toBeUndefined();
  });

  it('with reports-dir: the folder, and a report name unique per batch that upload-artifact takes', async () => {
    const command = `node -e 'require("fs").writeFileSync(process.env.OUT, JSON.stringify([process.env.SHARDLESS_REPORTS_DIR, process.env.SHARDLESS_REPORT_NAME]))'`;
    const names: string[] = [];
    for (const batchId of ['w:1/"a"', 'w:1/"a"']) {
      await new BatchRun(spec({ command, workerId: 'job 1:x', batchId, reportsDir: 'rep' })).start();
      const [reports, name] = readOut() as string[];
      expect(reports).toBe(path.resolve('rep'));
      expect(name).toMatch(/^job_1_x-batch-w_1__a_-[\w]+$/);
      names.push(name);
    }
    expect(new Set(names).size).toBe(2);
  });

  it('propagates exit codes and signals', async () => {
    expect((await new BatchRun(spec({ command: 'exit 3' })).start()).exitCode).toBe(3);
    expect((await new BatchRun(spec({ command: 'exit 0', shell: 'sh' })).start()).exitCode).toBe(0);
    const killed = await new BatchRun(spec({ command: 'kill -TERM $$' })).start();
    expect(killed).toMatchObject({ exitCode: null, signal: 'SIGTERM', timedOut: false, cancelled: false });
  });

  it('reports a shell that cannot be started as exit 127, without throwing', async () => {
    const out = await new BatchRun(spec({ shell: path.join(dir, 'no-such-shell') })).start();
    expect(out).toMatchObject({ exitCode: 127, signal: null, timedOut: false, cancelled: false });
  });

  // Records: the shell, an orphaned background sleep, a node child that ignores SIGTERM, and its own child.
  const TREE = (pids: string) => `
    echo $$ >> ${pids}
    ( sleep 1000 & echo $! >> ${pids} )
    node -e "process.on('SIGTERM', () => {}); require('fs').appendFileSync('${pids}', process.pid + '\\n'); setInterval(() => {}, 1000)" &
    bash -c 'trap "" TERM; echo $$ >> ${pids}; sleep 1000' &
    wait`;

  it('kills the whole tree on timeout, at once when the shell dies of SIGTERM', async () => {
    const pids = path.join(dir, 'pids');
    const started = Date.now();
    const out = await new BatchRun(spec({ command: TREE(pids), timeoutMs: 1500 })).start();
    expect(out).toMatchObject({ timedOut: true, cancelled: false, exitCode: null, signal: 'SIGTERM' });
    expect(Date.now() - started).toBeLessThan(1500 + 1500);
    const recorded = readPids(pids);
    expect(recorded).toHaveLength(4);
    await waitFor('the process tree to die', () => recorded.every((p) => !alive(p)), 5000);
  });

  it('SIGKILLs the tree after the grace period when the shell ignores SIGTERM', async () => {
    const pids = path.join(dir, 'pids');
    const out = await new BatchRun(spec({ command: `trap '' TERM\n${TREE(pids)}`, timeoutMs: 1000 })).start();
    expect(out).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
    expect(out.durationMs).toBeGreaterThanOrEqual(1000 + 1900);
    const recorded = readPids(pids);
    expect(recorded).toHaveLength(4);
    await waitFor('the process tree to die', () => recorded.every((p) => !alive(p)), 5000);
  });

  it('cancel() kills the whole tree quickly', async () => {
    const pids = path.join(dir, 'pids');
    const run = new BatchRun(spec({ command: TREE(pids) }));
    const done = run.start();
    await waitFor('the tree to start', () => readPids(pids).length === 4, 10_000);
    const t = Date.now();
    run.cancel();
    const out = await done;
    expect(Date.now() - t).toBeLessThan(2000);
    expect(out).toMatchObject({ cancelled: true, timedOut: false, exitCode: null, signal: 'SIGKILL' });
    const recorded = readPids(pids);
    await waitFor('the process tree to die', () => recorded.every((p) => !alive(p)), 3000);
  });

  it('cancel() before the spawn runs nothing', async () => {
    const run = new BatchRun(spec({ command: 'touch ran' }));
    run.cancel();
    const out = await run.start();
    expect(out).toMatchObject({ cancelled: true, exitCode: null });
    expect(existsSync(path.join(dir, 'ran'))).toBe(false);
  });

  it('leaves no background process behind when the command exits by itself', async () => {
    const pids = path.join(dir, 'pids');
    const t = Date.now();
    const out = await new BatchRun(spec({ command: `sleep 1000 & echo $! >> ${pids}; exit 0` })).start();
    expect(out.exitCode).toBe(0);
    expect(Date.now() - t).toBeLessThan(5000); // the sleep holds stdout: 'close' would never come
    const [sleeper] = readPids(pids);
    await waitFor('the background sleep to die', () => !alive(sleeper), 3000);
  });

  it('collects {junit} when written, and only fresh glob matches', async () => {
    const reports = path.join(dir, 'reports');
    mkdirSync(reports);
    const old = path.join(reports, 'old.xml');
    writeFileSync(old, '<old/>');
    utimesSync(old, new Date(Date.now() - 3600_000), new Date(Date.now() - 3600_000));
    writeFileSync(path.join(reports, 'recent.xml'), '<recent/>'); // left by the previous batch, within the slack
    writeFileSync(path.join(reports, 'rewritten.xml'), '<a/>');
    const out = await new BatchRun(
      spec({
        command: 'echo "<x/>" > {junit}; echo "<n/>" > reports/new.xml; echo "<b/>" > reports/rewritten.xml; echo > reports/other.txt',
        junitGlob: 'reports/*.xml\n# comment\n!reports/ignored.xml',
      }),
    ).start();
    expect(out.usesJUnit).toBe(true);
    expect(out.junitFiles[0]).toMatch(/junit\.xml$/);
    expect(out.junitFiles.slice(1).sort()).toEqual([path.join(reports, 'new.xml'), path.join(reports, 'rewritten.xml')]);
  });

  it('keepTail: streams the output and keeps its end, the last words before the exit included', async () => {
    const out = await new BatchRun(spec({ keepTail: true, command: "head -c 9000 /dev/zero | tr '\\0' x; echo; echo 'last words' >&2; exit 3" })).start();
    expect(out.exitCode).toBe(3);
    expect(out.outputTail).toMatch(/^x+\n/);
    expect(out.outputTail).toContain('last words\n');
    expect(out.outputTail.length).toBe(8 * 1024);
    // Without keepTail the output is inherited and nothing is kept.
    expect((await new BatchRun(spec({ command: 'echo words' })).start()).outputTail).toBe('');
  });

  it('keepTail: a process that left the group and holds the output open does not hold the batch up', async () => {
    const t0 = Date.now();
    const out = await new BatchRun(spec({ keepTail: true, command: 'setsid sleep 6 & echo done' })).start();
    expect(out.exitCode).toBe(0);
    expect(out.outputTail).toBe('done\n');
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('has no junit file when the command writes none', async () => {
    const out = await new BatchRun(spec({ command: 'echo {junit} > /dev/null' })).start();
    expect(out).toMatchObject({ usesJUnit: true, junitFiles: [] });
    const none = await new BatchRun(spec({ command: 'true' })).start();
    expect(none).toMatchObject({ usesJUnit: false, junitFiles: [] });
  });
});

describe('killProcessGroup', () => {
  it('never throws and refuses pids that would hit our own group', () => {
    expect(() => killProcessGroup(0)).not.toThrow();
    expect(() => killProcessGroup(1)).not.toThrow();
    expect(() => killProcessGroup(2 ** 22 + 12345)).not.toThrow();
  });
});
