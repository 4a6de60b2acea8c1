// A batch's costs file (src/worker/costs.ts): what the presets' reporters write (src/presets/files), read back
// for the batch's ids as JUnit's paths are (relative to the working directory); bad files warn and give
// nothing. test/e2e/warm.test.ts checks the real reporters' figures through vitest.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { applyCosts, readCosts } from '../src/worker/costs.js';
import type { TestResult } from '../src/types.js';
import { moduleCost } from '../src/presets/files/vitest-costs.mjs';

let wd: string;
beforeEach(() => {
  wd = mkdtempSync(join(tmpdir(), 'shardless-costs-'));
});
afterEach(() => {
  rmSync(wd, { recursive: true, force: true });
});

const file = (content: string) => {
  const path = join(wd, 'costs.json');
  writeFileSync(path, content);
  return path;
};

describe('readCosts', () => {
  test('maps absolute and relative paths to the batch’s ids; two keys of one file add up; other files are left out', () => {
    const path = file(JSON.stringify({ [join(wd, 'a.test.ts')]: 1200.4, './b.test.ts': 30, 'sub/c.test.ts': 5, [join(wd, 'sub/c.test.ts')]: 7, 'x.test.ts': 9 }));
    const { costs, warnings } = readCosts(path, ['a.test.ts', 'b.test.ts', 'sub/c.test.ts', 'd.test.ts'], wd);
    expect(warnings).toEqual([]);
    expect(Object.fromEntries(costs)).toEqual({ 'a.test.ts': 1200, 'b.test.ts': 30, 'sub/c.test.ts': 12 });
  });

  test('no file: nothing, silently (a runner without a reporter, or one that died)', () => {
    expect(readCosts(join(wd, 'none.json'), ['a'], wd)).toEqual({ costs: new Map(), warnings: [] });
    expect(readCosts(undefined, ['a'], wd)).toEqual({ costs: new Map(), warnings: [] });
  });

  test.each([
    ['{"a.test.ts": 1', /costs\.json: costs file is not JSON/],
    ['[1, 2]', /costs\.json: costs file is not an object/],
    ['null', /costs\.json: costs file is not an object/],
  ])('a bad file %j: a warning naming it, no costs', (content, warning) => {
    const { costs, warnings } = readCosts(file(content), ['a.test.ts'], wd);
    expect(costs.size).toBe(0);
    expect(warnings).toEqual([expect.stringMatching(warning)]);
  });

  test('values that are not a number of ms from 0 to a day are left out, with one warning', () => {
    const { costs, warnings } = readCosts(file(JSON.stringify({ 'a.t': -1, 'b.t': '5', 'c.t': 1e12, 'd.t': null, 'e.t': 0, 'f.t': 40 })), ['a.t', 'b.t', 'c.t', 'd.t', 'e.t', 'f.t'], wd);
    expect(Object.fromEntries(costs)).toEqual({ 'e.t': 0, 'f.t': 40 });
    expect(warnings).toEqual([expect.stringContaining('4 costs are not number of ms from 0 to a day; left out')]);
  });

  test('applyCosts sets costMs on the results that have one', () => {
    const results = new Map<string, TestResult>([['a', { outcome: 'passed', durationMs: 1, message: '' }], ['b', { outcome: 'failed', durationMs: 2, message: 'x' }]]);
    applyCosts(results, new Map([['a', 900]]));
    expect(results.get('a')?.costMs).toBe(900);
    expect(results.get('b')).not.toHaveProperty('costMs');
  });
});

describe('the reporters’ measure', () => {
  test('vitest: a module costs the sum of its diagnostic()’s set-up, preparation, collection (import), setup files and tests', () => {
    const diagnostic = { environmentSetupDuration: 10, prepareDuration: 20, collectDuration: 3000, setupDuration: 40, duration: 50, heap: undefined, importDurations: {} };
    expect(moduleCost({ diagnostic: () => diagnostic })).toBe(3120);
    expect(moduleCost({ diagnostic: () => ({ ...diagnostic, prepareDuration: Number.NaN, duration: -1 }) })).toBe(3050);
  });

  test('jest: a file costs its perfStats’ end - start', () => {
    const { fileCost } = createRequire(import.meta.url)('../src/presets/files/jest-costs.cjs') as { fileCost: (r: object) => number };
    expect(fileCost({ perfStats: { start: 1000, end: 4500, runtime: 200 } })).toBe(3500);
    expect(fileCost({ perfStats: {} })).toBe(0);
    expect(fileCost({})).toBe(0);
  });
});
