import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { annotations, buildReport, emitAnnotations, type Annotation } from '../src/report/index.js';
import type { HistoryEntry, RunData } from '../src/types.js';

const T0 = 1_700_000_000_000;

function run(t: string, o: HistoryEntry['o'], e: number, extra: Partial<HistoryEntry> = {}): HistoryEntry {
  return { t, w: 'w1', b: `b${e}`, i: false, o, d: 100, m: '', s: T0 + e - 100, e: T0 + e, ...extra };
}

/** A complete run of the given tests; `history` says how each ran. */
function runData(tests: RunData['tests'], history: HistoryEntry[]): RunData {
  return {
    queue: 'tests',
    run: '123-1',
    state: 'complete',
    abortReason: '',
    seededAtMs: T0,
    completedAtMs: T0 + 10_000,
    nowMs: T0 + 10_000,
    tests,
    history,
    workers: [{ id: 'w1', state: 'finished', batches: 1, tests: tests.length, busyMs: 1000, lostBatches: 0 }],
    batches: [],
  };
}

/** `nFailed` failed and `nLost` lost tests, listed lost first (and interleaved) to check the ordering. */
function many(nFailed: number, nLost: number): RunData {
  const tests: RunData['tests'] = [];
  const history: HistoryEntry[] = [];
  for (let i = 0; i < Math.max(nFailed, nLost); i++) {
    if (i < nLost) {
      tests.push({ id: `lost-${i}`, status: 'lost' });
      history.push(run(`lost-${i}`, 'lost', 100 + i), run(`lost-${i}`, 'timeout', 200 + i, { i: true }));
    }
    if (i < nFailed) {
      tests.push({ id: `fail-${i}`, status: 'failed' });
      history.push(run(`fail-${i}`, 'failed', 100 + i, { m: `failure ${i}` }));
    }
    tests.push({ id: `pass-${i}`, status: 'passed' });
    history.push(run(`pass-${i}`, 'passed', 100 + i));
  }
  return runData(tests, history);
}

/** The annotations, and how many were left out in all. */
function get(data: RunData, opts: Parameters<typeof annotations>[2] = {}) {
  const { list, omitted } = annotations(buildReport(data), data, { workspace: '/nonexistent-root', workingDirectory: '/nonexistent-root', ...opts });
  return { list, omitted: omitted.failed + omitted.lost };
}

// A repository with its tests in a subfolder, as `working-directory: packages/app` would run them.
let root: string;
let app: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'shardless-annotations-'));
  app = join(root, 'packages', 'app');
  mkdirSync(join(app, 'spec'), { recursive: true });
  writeFileSync(join(app, 'spec', 'exists.test.ts'), '');
  writeFileSync(join(app, 'test_py.py'), '');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('annotations', () => {
  it('makes one error per failed test and one warning per lost test, failed first, each in report order', () => {
    const { list, omitted } = get(many(3, 2));
    expect(omitted).toBe(0);
    expect(list.map((a) => [a.level, a.title])).toEqual([
      ['error', 'shardless: fail-0 failed'],
      ['error', 'shardless: fail-1 failed'],
      ['error', 'shardless: fail-2 failed'],
      ['warning', 'shardless: lost-0 lost'],
      ['warning', 'shardless: lost-1 lost'],
    ]);
    expect(list[0].message).toBe('failure 0');
    expect(list[3].message.split('\n')[0]).toBe('lost after 2 runs without a result');
    expect(list[3].message).toContain('lost on worker w1, timeout on worker w1');
  });

  it('nothing for a run without failed or lost tests (flaky, skipped and not-run ones included)', () => {
    const data = runData(
      [
        { id: 'a', status: 'passed' },
        { id: 'b', status: 'flaky' },
        { id: 'c', status: 'skipped' },
        { id: 'd', status: null },
      ],
      [run('a', 'passed', 1), run('b', 'failed', 1, { m: 'boom' }), run('b', 'passed', 2, { i: true }), run('c', 'skipped', 1)],
    );
    expect(get(data)).toEqual({ list: [], omitted: 0 });
  });

  it('caps at 10 by default, failed before lost, and counts what it left out', () => {
    expect(get(many(12, 3))).toMatchObject({ omitted: 5 });
    expect(get(many(12, 3)).list.map((a) => a.level)).toEqual(Array(10).fill('error'));
    const some = get(many(7, 5));
    expect(some.list.map((a) => a.title.split(' ')[1])).toEqual([
      ...Array.from({ length: 7 }, (_, i) => `fail-${i}`),
      'lost-0',
      'lost-1',
      'lost-2',
    ]);
    expect(some.omitted).toBe(2);
  });

  it('takes another cap from `max` (0 annotates nothing)', () => {
    expect(get(many(3, 3), { max: 4 })).toMatchObject({ omitted: 2 });
    expect(get(many(3, 3), { max: 4 }).list.map((a) => a.level)).toEqual(['error', 'error', 'error', 'warning']);
    expect(get(many(3, 3), { max: 0 })).toEqual({ list: [], omitted: 6 });
    expect(get(many(3, 3), { max: 50 })).toMatchObject({ omitted: 0 });
  });

  it('points at the file and line of the last failing run, relative to the repository root', () => {
    const data = runData(
      [{ id: 'spec/a.test.ts', status: 'failed' }],
      [
        // Out of time order: the run recorded last (e = 500) is the one that counts.
        run('spec/a.test.ts', 'failed', 500, { i: true, m: 'second', f: 'spec/a.test.ts', l: 42 }),
        run('spec/a.test.ts', 'failed', 100, { m: 'first', f: 'spec/helper.ts', l: 7 }),
      ],
    );
    const expected: Annotation = {
      level: 'error',
      title: 'shardless: spec/a.test.ts failed',
      message: 'second',
      file: 'packages/app/spec/a.test.ts',
      startLine: 42,
    };
    // working-directory absolute, or relative to the workspace.
    expect(get(data, { workspace: root, workingDirectory: app }).list).toEqual([expected]);
    expect(get(data, { workspace: root, workingDirectory: 'packages/app' }).list).toEqual([expected]);
    expect(get(data, { workspace: root, workingDirectory: './packages/app/' }).list).toEqual([expected]);
    // Tests run at the root.
    expect(get(data, { workspace: root, workingDirectory: root }).list[0]).toMatchObject({ file: 'spec/a.test.ts', startLine: 42 });
  });

  it('takes the workspace from GITHUB_WORKSPACE', () => {
    const data = runData([{ id: 'x', status: 'failed' }], [run('x', 'failed', 1, { m: 'm', f: 'src/x.ts', l: 3 })]);
    vi.stubEnv('GITHUB_WORKSPACE', root);
    try {
      const { list } = annotations(buildReport(data), data, { workingDirectory: 'packages/app' });
      expect(list[0]).toMatchObject({ file: 'packages/app/src/x.ts', startLine: 3 });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('a file without a line; a line without a file or id file is dropped; a file outside the repository is dropped', () => {
    const data = runData(
      [
        { id: 'no-line', status: 'failed' },
        { id: 'no-file', status: 'failed' },
        { id: 'outside', status: 'failed' },
        { id: 'absolute', status: 'failed' },
      ],
      [
        run('no-line', 'failed', 1, { m: 'm', f: 'spec/b.test.ts' }),
        run('no-file', 'failed', 1, { m: 'm', l: 9 }),
        run('outside', 'failed', 1, { m: 'm', f: '../../../elsewhere/c.ts', l: 1 }),
        run('absolute', 'failed', 1, { m: 'm', f: join(app, 'spec', 'd.ts'), l: 2 }),
      ],
    );
    const { list } = get(data, { workspace: root, workingDirectory: app });
    expect(list.map(({ file, startLine }) => ({ file, startLine }))).toEqual([
      { file: 'packages/app/spec/b.test.ts', startLine: undefined },
      { file: undefined, startLine: undefined },
      { file: undefined, startLine: undefined },
      { file: 'packages/app/spec/d.ts', startLine: 2 },
    ]);
    for (const a of list) {
      if (a.file === undefined) expect(a).not.toHaveProperty('file');
      if (a.startLine === undefined) expect(a).not.toHaveProperty('startLine');
    }
  });

  it('without a file from JUnit, uses the test id when it names an existing file (failed and lost tests)', () => {
    const data = runData(
      [
        { id: 'spec/exists.test.ts', status: 'failed' },
        { id: 'spec/missing.test.ts', status: 'failed' },
        { id: 'test_py.py::test_thing', status: 'failed' },
        { id: 'spec', status: 'failed' }, // a directory, not a file
        { id: './spec/exists.test.ts', status: 'lost' },
      ],
      [
        run('spec/exists.test.ts', 'failed', 1, { m: 'm', l: 12 }),
        run('spec/missing.test.ts', 'failed', 1, { m: 'm' }),
        run('test_py.py::test_thing', 'failed', 1, { m: 'm' }),
        run('spec', 'failed', 1, { m: 'm' }),
        run('./spec/exists.test.ts', 'lost', 1),
      ],
    );
    const { list } = get(data, { workspace: root, workingDirectory: app });
    expect(list.map(({ file, startLine }) => ({ file, startLine }))).toEqual([
      { file: 'packages/app/spec/exists.test.ts', startLine: 12 },
      { file: undefined, startLine: undefined },
      { file: 'packages/app/test_py.py', startLine: undefined },
      { file: undefined, startLine: undefined },
      { file: 'packages/app/spec/exists.test.ts', startLine: undefined },
    ]);
  });

  it('messages: the first lines of the last failure, without colours, single annotations under 4 KB', () => {
    const long = Array.from({ length: 200 }, (_, i) => `  at frame ${i} ${'x'.repeat(50)}`).join('\n');
    const data = runData(
      [
        { id: 'colour', status: 'failed' },
        { id: 'long', status: 'failed' },
        { id: 'wide', status: 'failed' },
        { id: 'empty', status: 'failed' },
        { id: 'multi\nline id', status: 'failed' },
      ],
      [
        run('colour', 'failed', 1, { m: '\n\n\u001b[31mAssertionError\u001b[39m: expected 1 to be 2\r\n  at x.ts:1:1\n\n' }),
        run('long', 'failed', 1, { m: `Error: long\n${long}` }),
        run('wide', 'failed', 1, { m: '測'.repeat(5000) }),
        run('empty', 'failed', 1, { m: '' }),
        run('multi\nline id', 'failed', 1, { m: 'm' }),
      ],
    );
    const [colour, long2, wide, empty, multi] = get(data).list;
    expect(colour.message).toBe('AssertionError: expected 1 to be 2\n  at x.ts:1:1');
    const lines = long2.message.split('\n');
    expect(lines[0]).toBe('Error: long');
    expect(lines).toHaveLength(21);
    expect(lines.at(-1)).toBe('…');
    expect(Buffer.byteLength(wide.message)).toBeLessThanOrEqual(4000);
    expect(wide.message).toMatch(/^測+\n… \(cut\)$/);
    expect(empty.message).toBe('failed without a message (1 run)');
    expect(multi.title).toBe('shardless: multi line id failed');
  });
});

describe('emitAnnotations', () => {
  let out: string[];
  function capture() {
    out = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
  }
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Workflow-command lines, split into command, properties (unescaped) and message (unescaped). */
  function commands() {
    const unescape = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
    return out
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('::'))
      .map((line) => {
        const m = /^::(\w+)(?: ([^:]*))?::(.*)$/.exec(line);
        if (!m) throw new Error(`not a workflow command: ${line}`);
        const props = Object.fromEntries((m[2] ?? '').split(',').filter(Boolean).map((p) => {
          const eq = p.indexOf('=');
          return [p.slice(0, eq), unescape(p.slice(eq + 1))];
        }));
        return { command: m[1], props, message: unescape(m[3]), line };
      });
  }

  it('writes ::error with file, line and title, and ::warning for lost tests', () => {
    const data = runData(
      [
        { id: 'spec/lost.test.ts', status: 'lost' },
        { id: 'spec/a.test.ts', status: 'failed' },
        { id: 'spec/b.test.ts', status: 'failed' },
      ],
      [
        run('spec/a.test.ts', 'failed', 1, { m: 'expected 1 to be 2\n  at spec/a.test.ts:42:7', f: 'spec/a.test.ts', l: 42 }),
        run('spec/b.test.ts', 'failed', 1, { m: '100% wrong, really: yes' }),
        run('spec/lost.test.ts', 'lost', 1),
        run('spec/lost.test.ts', 'lost', 2, { i: true }),
      ],
    );
    capture();
    emitAnnotations(buildReport(data), data, { workspace: root, workingDirectory: app });
    const cmds = commands();
    expect(cmds[0].line).toBe(
      '::error title=shardless%3A spec/a.test.ts failed,file=packages/app/spec/a.test.ts,line=42::expected 1 to be 2%0A  at spec/a.test.ts:42:7',
    );
    expect(cmds.map(({ command, props, message }) => ({ command, props, message }))).toEqual([
      {
        command: 'error',
        props: { title: 'shardless: spec/a.test.ts failed', file: 'packages/app/spec/a.test.ts', line: '42' },
        message: 'expected 1 to be 2\n  at spec/a.test.ts:42:7',
      },
      { command: 'error', props: { title: 'shardless: spec/b.test.ts failed' }, message: '100% wrong, really: yes' },
      {
        command: 'warning',
        props: { title: 'shardless: spec/lost.test.ts lost' },
        message: 'lost after 2 runs without a result\nruns: lost on worker w1, lost on worker w1',
      },
    ]);
    // One line per annotation, and no notice when nothing was left out.
    expect(out.join('').trim().split('\n')).toHaveLength(3);
  });

  it('ends with a notice saying how many were left out', () => {
    const data = many(11, 2);
    capture();
    emitAnnotations(buildReport(data), data, { workspace: '/nonexistent-root', workingDirectory: '/nonexistent-root' });
    const cmds = commands();
    expect(cmds.map((c) => c.command)).toEqual([...Array(10).fill('error'), 'notice']);
    expect(cmds.at(-1)!.message).toMatch(/^shardless: 1 failed and 2 lost tests are not annotated here/);
    expect(cmds.at(-1)!.props.title).toBe('shardless: 3 more annotations left out');

    out = [];
    emitAnnotations(buildReport(data), data, { max: 12, workspace: '/nonexistent-root', workingDirectory: '/nonexistent-root' });
    expect(commands().at(-1)).toMatchObject({ command: 'notice', message: expect.stringMatching(/^shardless: 1 lost test is not annotated/) });
  });

  it('emits nothing when nothing failed or was lost', () => {
    const data = runData([{ id: 'a', status: 'passed' }], [run('a', 'passed', 1)]);
    capture();
    emitAnnotations(buildReport(data), data);
    expect(out).toEqual([]);
  });
});
