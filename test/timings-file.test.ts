// Timings in files (src/sizing/timings-file.ts): the JSON that timings-output writes, read back through
// timings-file together with JUnit XML of an earlier run, told apart by extension or content.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTimingsJson, timingsFromFiles, timingsJson, writeTimingsFile } from '../src/sizing/timings-file.js';
import type { Timings } from '../src/sizing/costmodel.js';

function timings(costs: Record<string, number> = {}, startMs: number | null = null): Timings {
  return { costs: new Map(Object.entries(costs)), startMs };
}

function costsOf(t: Timings): Record<string, number> {
  return Object.fromEntries([...t.costs].sort(([a], [b]) => (a < b ? -1 : 1)));
}

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shardless-timings-'));
  mkdirSync(join(dir, 'reports'));
  writeFileSync(join(dir, 'reports', 'one.xml'), `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="a.test.ts" tests="1">
    <testcase classname="a.test.ts" name="works" time="5"/>
  </testsuite>
  <testsuite name="b.test.ts" tests="2">
    <testcase classname="b.test.ts" name="one" time="1.25"/>
    <testcase classname="b.test.ts" name="two" time="0.5"><failure message="boom"/></testcase>
  </testsuite>
</testsuites>
`);
  writeFileSync(join(dir, 'reports', 'two.xml'), `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="suite" tests="2">
    <testcase classname="x" name="y" file="./d.test.ts" time="0.125"/>
    <testcase classname="zzz.test.ts" name="not listed" time="9"/>
  </testsuite>
</testsuites>
`);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const ids = ['a.test.ts', 'b.test.ts', 'c.test.ts', 'd.test.ts'];

describe('JUnit XML', () => {
  test('fills in unknown tests only, from every matching file; the start cost and known costs stay', async () => {
    const prev = timings({ 'a.test.ts': 111 }, 77);
    const t = await timingsFromFiles(prev, 'reports/*.xml', ids, dir);
    expect(costsOf(t)).toEqual({ 'a.test.ts': 111, 'b.test.ts': 1_750, 'd.test.ts': 125 });
    expect(t.startMs).toBe(77);
    // The prior timings are not changed in place.
    expect(costsOf(prev)).toEqual({ 'a.test.ts': 111 });
  });

  test('an absolute pattern works the same', async () => {
    const t = await timingsFromFiles(timings(), join(dir, 'reports', 'one.xml'), ids, '/');
    expect(costsOf(t)).toEqual({ 'a.test.ts': 5_000, 'b.test.ts': 1_750 });
  });

  test('a pattern matching no file returns the timings as they were', async () => {
    const prev = timings({ 'a.test.ts': 1 }, 2);
    const t = await timingsFromFiles(prev, 'nothing/*.xml', ids, dir);
    expect(costsOf(t)).toEqual({ 'a.test.ts': 1 });
    expect(t.startMs).toBe(2);
  });
});

describe('timings JSON', () => {
  test('written, then read back: the costs of the listed tests (rounded), and the start cost', async () => {
    const path = join(dir, 'out', 'deeper', 'timings.json');
    writeTimingsFile(path, { ...timings({ 'a.test.ts': 1234.6, 'b.test.ts': 10, other: 5 }, 456.4), measured: 0.75 }, ['a.test.ts', 'b.test.ts', 'c.test.ts']);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ version: 1, startMs: 456, measured: 0.75, costs: { 'a.test.ts': 1235, 'b.test.ts': 10 } });
    const t = await timingsFromFiles(timings(), path, ids, dir);
    expect(costsOf(t)).toEqual({ 'a.test.ts': 1235, 'b.test.ts': 10 });
    expect(t.startMs).toBe(456);
    expect(t.measured).toBe(0.75);
  });

  test('an unknown start cost is written as null, and known costs and start cost win over the file', async () => {
    expect(JSON.parse(timingsJson(timings({ x: 1 }), ['x']))).toEqual({ version: 1, startMs: null, costs: { x: 1 } });
    const path = join(dir, 'known.json');
    writeFileSync(path, JSON.stringify({ version: 1, startMs: 900, costs: { 'a.test.ts': 1, 'c.test.ts': 3000 } }));
    const t = await timingsFromFiles(timings({ 'a.test.ts': 50 }, 20), path, ids, dir);
    expect(costsOf(t)).toEqual({ 'a.test.ts': 50, 'c.test.ts': 3000 });
    expect(t.startMs).toBe(20);
  });

  test('JSON and JUnit in one glob: told apart by extension, and by content when the name says nothing', async () => {
    const mixed = join(dir, 'mixed');
    mkdirSync(mixed);
    writeFileSync(join(mixed, 'a.json'), JSON.stringify({ version: 1, startMs: null, costs: { 'c.test.ts': 700 } }));
    writeFileSync(join(mixed, 'b.timings'), `  \n${JSON.stringify({ version: 1, startMs: 5, costs: { 'd.test.ts': 800 } })}`);
    writeFileSync(join(mixed, 'c.report'), readFileSync(join(dir, 'reports', 'one.xml')));
    const t = await timingsFromFiles(timings(), 'mixed/*', ids, dir);
    expect(costsOf(t)).toEqual({ 'a.test.ts': 5_000, 'b.test.ts': 1_750, 'c.test.ts': 700, 'd.test.ts': 800 });
    expect(t.startMs).toBe(5);
  });

  test('a file that is not a timings file is ignored with a reason', async () => {
    expect(parseTimingsJson('{nope')).toMatch(/not valid JSON/);
    expect(parseTimingsJson('[1]')).toBe('not a JSON object');
    expect(parseTimingsJson('{"version":2,"costs":{}}')).toMatch(/version 2 is not 1/);
    expect(parseTimingsJson('{"version":1,"costs":[1]}')).toMatch(/"costs" is not an object/);
    // Values that are no duration are left out.
    const ok = parseTimingsJson('{"version":1,"startMs":-1,"measured":2,"costs":{"a":1,"b":-5,"c":"7","d":null}}');
    expect(ok).toEqual({ costs: new Map([['a', 1]]), startMs: null });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"version": 1, "costs": ');
    const t = await timingsFromFiles(timings({ 'a.test.ts': 3 }), bad, ids, dir);
    expect(costsOf(t)).toEqual({ 'a.test.ts': 3 });
  });

  test('a timings-output that cannot be written names the input', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    expect(() => writeTimingsFile(join(file, 'sub', 't.json'), timings({ x: 1 }), ['x'])).toThrow(/Input 'timings-output': cannot write .*ENOTDIR/);
  });
});
