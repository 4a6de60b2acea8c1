// The results of a batch (README, "Results of a batch"): JUnit when the batch wrote any, the exit code rule
// otherwise, and a test that the batch's JUnit does not cover has no result, whatever the exit code.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BatchOutcome } from '../src/worker/batch.js';
import { batchResults } from '../src/worker/results.js';

let wd: string;
let printed: string[];
beforeEach(() => {
  wd = mkdtempSync(join(tmpdir(), 'shardless-results-'));
  printed = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    printed.push(String(s));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(wd, { recursive: true, force: true });
});

const warnings = () => printed.join('').split('\n').filter((l) => l.startsWith('::warning::'));

function junit(cases: string[]): string {
  const file = join(wd, `junit-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, `<testsuites><testsuite name="s">${cases.map((c) => `<testcase classname="${c}" name="${c}" time="0.1"/>`).join('')}</testsuite></testsuites>`);
  return file;
}

function outcome(over: Partial<BatchOutcome>): BatchOutcome {
  return { exitCode: 0, signal: null, timedOut: false, cancelled: false, junitFiles: [], usesJUnit: true, durationMs: 100, outputTail: '', ...over };
}

describe('batchResults', () => {
  it('a JUnit file that holds only other files\' testcases gives the batch\'s tests no result, though the command exited 0', () => {
    const file = junit(['other/x.test.ts']);
    const { results, end } = batchResults(outcome({ junitFiles: [file] }), ['a.test.ts', 'b.test.ts'], wd);
    expect([...results]).toEqual([]);
    expect(end).toBe('finished');
    const w = warnings().filter((l) => l.includes('no testcase'));
    expect(w).toHaveLength(1); // once per batch, naming the ids and the files read
    expect(w[0]).toContain('"a.test.ts", "b.test.ts"');
    expect(w[0]).toContain(file);
  });

  it('tests the JUnit covers get its results; the others none, with one warning naming them', () => {
    const file = junit(['a.test.ts']);
    const { results, end } = batchResults(outcome({ junitFiles: [file] }), ['a.test.ts', 'b.test.ts', 'c.test.ts'], wd);
    expect(results.get('a.test.ts')).toMatchObject({ outcome: 'passed', durationMs: 100, timed: true });
    expect(results.has('b.test.ts')).toBe(false);
    expect(results.has('c.test.ts')).toBe(false);
    expect(end).toBe('finished');
    const w = warnings().filter((l) => l.includes('no testcase'));
    expect(w).toHaveLength(1);
    expect(w[0]).toContain('2 of the batch\'s 3 tests');
    expect(w[0]).toContain('"b.test.ts", "c.test.ts"');
    expect(w[0]).not.toContain('"a.test.ts"');
  });

  it('a JUnit covering every test: its results, no warning', () => {
    const { results } = batchResults(outcome({ junitFiles: [junit(['a.test.ts', 'b.test.ts'])] }), ['a.test.ts', 'b.test.ts'], wd);
    expect(results.size).toBe(2);
    expect(warnings()).toEqual([]);
  });

  it('a command that uses {junit} but wrote no file: the exit code rule, with a warning', () => {
    const passed = batchResults(outcome({ exitCode: 0 }), ['a.test.ts', 'b.test.ts'], wd);
    expect(passed.end).toBe('finished');
    expect([...passed.results.values()].map((r) => r.outcome)).toEqual(['passed', 'passed']);
    expect(warnings().filter((l) => l.includes('wrote no JUnit file'))).toHaveLength(1);
    expect(batchResults(outcome({ exitCode: 1 }), ['a.test.ts', 'b.test.ts'], wd).end).toBe('split');
  });

  it('without JUnit: the exit code rule, no warning', () => {
    const r = batchResults(outcome({ usesJUnit: false, exitCode: 0 }), ['a.test.ts'], wd);
    expect(r.results.get('a.test.ts')?.outcome).toBe('passed');
    expect(warnings()).toEqual([]);
  });

  it('a batch end says what happened: finished, timed-out, killed (with or without JUnit) or split', () => {
    const ids = ['a.test.ts', 'b.test.ts'];
    const end = (over: Partial<BatchOutcome>) => batchResults(outcome({ usesJUnit: false, ...over }), ids, wd).end;
    expect(end({ exitCode: 0 })).toBe('finished');
    expect(end({ exitCode: 1 })).toBe('split');
    expect(end({ exitCode: null, timedOut: true })).toBe('timed-out');
    expect(end({ exitCode: null, signal: 'SIGKILL' })).toBe('killed');
    const file = junit(['a.test.ts']);
    expect(end({ junitFiles: [file], exitCode: null, signal: 'SIGKILL' })).toBe('killed');
    expect(end({ junitFiles: [file], exitCode: null, timedOut: true })).toBe('timed-out');
    expect(end({ junitFiles: [file], exitCode: 1 })).toBe('finished');
  });
});
