import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseJUnit, readJUnitFiles } from '../src/report/junit-read.js';

let wd: string;
beforeEach(() => {
  wd = mkdtempSync(join(tmpdir(), 'shardless-junit-'));
});
afterEach(() => {
  rmSync(wd, { recursive: true, force: true });
});

/** Write `xml` to a file in the working directory and read it back for `ids`. */
function read(xml: string | string[], ids: string[]) {
  const files = (Array.isArray(xml) ? xml : [xml]).map((content, i) => {
    const f = join(wd, `report-${i}.xml`);
    writeFileSync(f, content);
    return f;
  });
  return readJUnitFiles(files, ids, wd);
}

const VITEST = `<?xml version="1.0" encoding="UTF-8" ?>
<testsuites name="vitest tests" tests="3" failures="1" errors="0" time="0.5">
  <testsuite name="test/a.test.ts" timestamp="2024-01-01T00:00:00.000Z" hostname="ci" tests="2" failures="1" errors="0" skipped="0" time="0.005">
    <testcase classname="test/a.test.ts" name="math &gt; adds" time="0.002"></testcase>
    <testcase classname="test/a.test.ts" name="math &gt; fails" time="0.003">
      <failure message="expected 1 to be 2 // Object.is equality" type="AssertionError">
AssertionError: expected 1 to be 2 // Object.is equality
 ❯ test/a.test.ts:7:15
      </failure>
    </testcase>
  </testsuite>
  <testsuite name="test/b.test.ts" timestamp="2024-01-01T00:00:00.000Z" hostname="ci" tests="1" failures="0" errors="0" skipped="0" time="0.1">
    <testcase classname="test/b.test.ts" name="b works" time="0.1"/>
  </testsuite>
</testsuites>`;

describe('reporter styles', () => {
  it('vitest: testsuite name and testcase classname are the file path', () => {
    const { results, warnings } = read(VITEST, ['test/a.test.ts', 'test/b.test.ts', 'test/c.test.ts']);
    expect(warnings).toEqual([]);
    const a = results.get('test/a.test.ts')!;
    expect(a.outcome).toBe('failed');
    expect(a.durationMs).toBe(5);
    expect(a.message).toMatch(/^expected 1 to be 2 \/\/ Object.is equality\nAssertionError: expected 1 to be 2/);
    expect(a.message).toContain('test/a.test.ts:7:15');
    expect(results.get('test/b.test.ts')).toEqual({ outcome: 'passed', durationMs: 100, message: '' });
    expect(results.has('test/c.test.ts')).toBe(false);
    expect(results.size).toBe(2);
  });

  it('jest-junit: file attribute on the testcase (absolute) or on the suite', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="3" failures="0" errors="0" time="1.2">
  <testsuite name="Calculator" errors="0" failures="0" skipped="0" timestamp="2024-01-01T00:00:00" time="1.0" tests="2">
    <testcase classname="Calculator adds" name="Calculator adds" time="0.004" file="${join(wd, 'src', 'calc.test.js')}"></testcase>
    <testcase classname="Calculator subtracts" name="Calculator subtracts" time="0.006" file="${join(wd, 'src', 'calc.test.js')}"></testcase>
  </testsuite>
  <testsuite name="Other" file="./src/other.test.js" tests="1" time="0.2">
    <testcase classname="Other works" name="Other works" time="0.2"></testcase>
  </testsuite>
</testsuites>`;
    const { results, warnings } = read(xml, ['src/calc.test.js', './src/other.test.js']);
    expect(warnings).toEqual([]);
    expect(results.get('src/calc.test.js')).toEqual({ outcome: 'passed', durationMs: 10, message: '' });
    expect(results.get('./src/other.test.js')).toEqual({ outcome: 'passed', durationMs: 200, message: '' });
  });

  it('pytest: dotted classname, file and line attributes, error and skipped', () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5" time="0.1" timestamp="2024-01-01T00:00:00" hostname="ci">
  <testcase classname="tests.test_math" name="test_add" file="tests/test_math.py" line="3" time="0.001" />
  <testcase classname="tests.test_math" name="test_sub" file="tests/test_math.py" line="7" time="0.002">
    <failure message="assert 1 == 2">def test_sub():
&gt;       assert 1 == 2
E       assert 1 == 2

tests/test_math.py:8: AssertionError</failure>
  </testcase>
  <testcase classname="tests.test_db" name="test_query" file="tests\\test_db.py" line="1" time="0.0005">
    <error message="failed on setup with &quot;fixture 'db' not found&quot;">file tests/test_db.py, line 1</error>
  </testcase>
  <testcase classname="tests.test_gpu" name="test_cuda" file="tests/test_gpu.py" line="2" time="0.000">
    <skipped type="pytest.skip" message="no gpu">tests/test_gpu.py:3: no gpu</skipped>
  </testcase>
</testsuite></testsuites>`;
    const ids = ['tests/test_math.py', 'tests/test_db.py', 'tests/test_gpu.py', 'tests.test_math'];
    const { results, warnings } = read(xml, ids);
    expect(warnings).toEqual([]);
    const math = results.get('tests/test_math.py')!;
    expect(math).toMatchObject({ outcome: 'failed', durationMs: 3, file: 'tests/test_math.py', line: 7 });
    expect(math.message).toMatch(/^assert 1 == 2\ndef test_sub\(\):\n>       assert 1 == 2/);
    expect(results.get('tests.test_math')).toMatchObject({ outcome: 'failed', line: 7 });
    const db = results.get('tests/test_db.py')!;
    expect(db).toMatchObject({ outcome: 'failed', durationMs: 1, file: 'tests/test_db.py', line: 1 });
    expect(db.message).toMatch(/^failed on setup with "fixture 'db' not found"\nfile tests/);
    expect(results.get('tests/test_gpu.py')).toEqual({ outcome: 'skipped', durationMs: 0, message: '' });
  });

  it('mocha (mocha-junit-reporter): file attribute on suites, CDATA failure text', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="Mocha Tests" time="0.01" tests="2" failures="1">
  <testsuite name="Root Suite" timestamp="2024-01-01T00:00:00" tests="0" file="${wd}/test/api.spec.js" time="0" failures="0"></testsuite>
  <testsuite name="API" timestamp="2024-01-01T00:00:00" tests="2" file="${wd}//test/./api.spec.js" time="0.01" failures="1">
    <testcase name="API returns 200" time="0.004" classname="returns 200"></testcase>
    <testcase name="API returns 404" time="0.003" classname="returns 404">
      <failure message="expected 500 to equal 404" type="AssertionError"><![CDATA[AssertionError: expected 500 to equal 404
    at Context.<anonymous> (test/api.spec.js:12:5)]]></failure>
    </testcase>
  </testsuite>
</testsuites>`;
    const { results, warnings } = read(xml, ['test/api.spec.js']);
    expect(warnings).toEqual([]);
    const r = results.get('test/api.spec.js')!;
    expect(r.outcome).toBe('failed');
    expect(r.durationMs).toBe(7);
    expect(r.message).toContain('at Context.<anonymous> (test/api.spec.js:12:5)');
    expect(r.file).toBeUndefined();
  });

  it('nested testsuites and a bare <testsuite> root', () => {
    const nested = `<testsuites><testsuite name="outer" file="x.spec.js"><testsuite name="inner"><testcase name="deep" time="1.5"/></testsuite></testsuite></testsuites>`;
    const bare = `<testsuite name="y.spec.js"><testcase name="one" time="0.25"/></testsuite>`;
    const { results, warnings } = read([nested, bare], ['x.spec.js', 'inner', 'y.spec.js']);
    expect(warnings).toEqual([]);
    expect(results.get('x.spec.js')).toEqual({ outcome: 'passed', durationMs: 1500, message: '' });
    expect(results.get('inner')).toEqual({ outcome: 'passed', durationMs: 1500, message: '' });
    expect(results.get('y.spec.js')).toEqual({ outcome: 'passed', durationMs: 250, message: '' });
  });
});

describe('matching and status rules', () => {
  const suite = (cases: string) => `<testsuites><testsuite name="t.ts">${cases}</testsuite></testsuites>`;

  it('matches ids and attributes after normalising ./, backslashes, duplicate slashes and absolute paths', () => {
    const xml = `<testsuites>
      <testsuite name="${wd}/a/one.ts"><testcase name="x"/></testsuite>
      <testsuite name="a\\two.ts"><testcase name="x"/></testsuite>
      <testsuite name="a//three.ts"><testcase name="x"/></testsuite>
      <testsuite name="./a/four.ts"><testcase name="x"/></testsuite>
    </testsuites>`;
    const ids = ['./a/one.ts', 'a/two.ts', `${wd}/a/three.ts`, 'a/./four.ts', 'a/five.ts'];
    const { results } = read(xml, ids);
    expect([...results.keys()].sort()).toEqual(ids.slice(0, 4).sort());
  });

  it('matches by testcase name', () => {
    const { results } = read(suite('<testcase classname="C" name="the name" time="0.01"/>'), ['the name', 'C']);
    expect(results.get('the name')?.outcome).toBe('passed');
    expect(results.get('C')?.outcome).toBe('passed');
  });

  it('failed beats passed, and the first failure gives the message', () => {
    const { results } = read(
      suite(`<testcase name="a"/><testcase name="b"><failure message="first"/></testcase><testcase name="c"><failure message="second"/></testcase><testcase name="d"/>`),
      ['t.ts'],
    );
    expect(results.get('t.ts')).toEqual({ outcome: 'failed', durationMs: 0, message: 'first' });
  });

  it('all skipped → skipped; skipped and passed → passed; failure with skipped → failed', () => {
    const xml = `<testsuites>
      <testsuite name="s.ts"><testcase name="a"><skipped/></testcase><testcase name="b"><skipped message="todo"/></testcase></testsuite>
      <testsuite name="p.ts"><testcase name="a"><skipped/></testcase><testcase name="b"/></testsuite>
      <testsuite name="f.ts"><testcase name="a"><skipped/><failure>boom</failure></testcase></testsuite>
    </testsuites>`;
    const { results } = read(xml, ['s.ts', 'p.ts', 'f.ts']);
    expect(results.get('s.ts')?.outcome).toBe('skipped');
    expect(results.get('p.ts')?.outcome).toBe('passed');
    expect(results.get('f.ts')).toMatchObject({ outcome: 'failed', message: 'boom' });
  });

  it('<error> counts as failed', () => {
    const { results } = read(suite('<testcase name="a"/><testcase name="b"><error message="TypeError: x is undefined"/></testcase>'), ['t.ts']);
    expect(results.get('t.ts')).toMatchObject({ outcome: 'failed', message: 'TypeError: x is undefined' });
  });

  it('gives no entry to ids without testcases, and none to a suite without testcases', () => {
    const { results } = read(`<testsuites><testsuite name="empty.ts"></testsuite><testsuite name="t.ts"><testcase name="a"/></testsuite></testsuites>`, [
      'empty.ts',
      't.ts',
      'never.ts',
    ]);
    expect([...results.keys()]).toEqual(['t.ts']);
  });

  it('sums durations over several files, rounds, and reads a file listed twice once', () => {
    const f1 = join(wd, 'r1.xml');
    const f2 = join(wd, 'r2.xml');
    writeFileSync(f1, suite('<testcase name="a" time="0.0004"/><testcase name="b" time="1,000.0011"/>'));
    writeFileSync(f2, suite('<testcase name="c" time="nonsense"/><testcase name="d" time="-3"/><testcase name="e" time="0.5"/>'));
    const { results } = readJUnitFiles([f1, f2, 'r1.xml'], ['t.ts'], wd);
    expect(results.get('t.ts')?.durationMs).toBe(1000502);
  });

  it('decodes the predefined and numeric entities, and caps the message', () => {
    const long = 'x'.repeat(5000);
    const { results } = read(
      `<testsuites><testsuite name="e.ts"><testcase name="a"><failure message="&lt;a&gt; &amp;amp; &#65;&#x42; &bogus;">${long}</failure></testcase></testsuite></testsuites>`,
      ['e.ts'],
    );
    const m = results.get('e.ts')!.message;
    expect(m.startsWith('<a> &amp; AB &bogus;\nxxx')).toBe(true);
    expect(m.length).toBeLessThanOrEqual(2000);
  });

  it('parseJUnit exposes the raw cases', () => {
    const { cases, warnings } = parseJUnit(
      '<testsuite name="s" file="f.ts"><testcase name="n" classname="c" file="f.ts" line="4" time="0.5"><failure message="m">t</failure></testcase></testsuite>',
      'label',
    );
    expect(warnings).toEqual([]);
    expect(cases).toEqual([
      { name: 'n', classname: 'c', file: 'f.ts', line: 4, suites: [{ name: 's', file: 'f.ts' }], outcome: 'failed', seconds: 0.5, message: 'm\nt' },
    ]);
  });
});

describe('robustness', () => {
  const GOOD = '<testsuite name="ok.ts"><testcase name="a"/></testsuite>';

  /** A bad file yields a warning naming it and no results, but does not spoil a good file next to it. */
  function expectRejected(badPath: string, pattern: RegExp) {
    const good = join(wd, 'good.xml');
    writeFileSync(good, GOOD);
    const { results, warnings } = readJUnitFiles([badPath, good], ['ok.ts', 'bad.ts', 'a'], wd);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(badPath);
    expect(warnings[0]).toMatch(pattern);
    expect([...results.keys()].sort()).toEqual(['a', 'ok.ts']);
  }
  const write = (name: string, content: string | Buffer) => {
    const f = join(wd, name);
    writeFileSync(f, content);
    return f;
  };

  it('missing file', () => expectRejected(join(wd, 'nope.xml'), /not found/));
  it('a directory instead of a file', () => {
    mkdirSync(join(wd, 'dir.xml'));
    expectRejected(join(wd, 'dir.xml'), /cannot read/);
  });
  it('empty file', () => expectRejected(write('empty.xml', ''), /empty/));
  it('whitespace-only file', () => expectRejected(write('blank.xml', ' \n\t'), /empty/));
  it('malformed XML', () => expectRejected(write('bad.xml', '<testsuite name="bad.ts"><testcase name="a"></testsuite>'), /invalid/));
  it('truncated XML', () => expectRejected(write('cut.xml', VITEST.slice(0, VITEST.indexOf('</testcase>') + 5)), /invalid/));
  it('binary garbage', () => expectRejected(write('bin.xml', Buffer.from([0, 255, 1, 60, 62, 0, 200])), /invalid/));
  it('valid XML that is not JUnit', () => expectRejected(write('html.xml', '<html><body>hi</body></html>'), /no testcase/));
  it('files over 50 MB are skipped without being read', () => {
    const f = join(wd, 'huge.xml');
    writeFileSync(f, '');
    truncateSync(f, 50 * 1024 * 1024 + 1);
    expectRejected(f, /50 MB/);
  });

  it('very deep nesting: no crash, bounded time', () => {
    const n = 100_000;
    const deep = '<testsuites>' + '<testsuite name="bad.ts">'.repeat(n) + '<testcase name="x"/>' + '</testsuite>'.repeat(n) + '</testsuites>';
    const start = Date.now();
    expectRejected(write('deep.xml', deep), /nested|depth|could not/i);
    expect(Date.now() - start).toBeLessThan(5000);
  });

  it('nesting past the depth cap keeps the shallow testcases and warns', () => {
    const n = 220;
    const xml = '<testsuite name="top.ts"><testcase name="shallow"/>' + '<testsuite name="d">'.repeat(n) + '<testcase name="bottom"/>' + '</testsuite>'.repeat(n) + '</testsuite>';
    const { results, warnings } = read(xml, ['top.ts', 'shallow', 'bottom']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/deeper than 200/);
    expect(results.has('shallow')).toBe(true);
    expect(results.has('bottom')).toBe(false);
  });

  it('entity expansion ("billion laughs") is not expanded', () => {
    const lol = (i: number) => `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
    const xml = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol0 "lol">${Array.from({ length: 9 }, (_, i) => lol(i + 1)).join('')}]>
<testsuite name="laughs.ts"><testcase name="&lol9;"><failure message="&lol9;">&lol9;</failure></testcase></testsuite>`;
    const start = Date.now();
    const { results, warnings } = read(xml, ['laughs.ts']);
    expect(Date.now() - start).toBeLessThan(2000);
    expect(warnings).toEqual([]);
    expect(results.get('laughs.ts')).toMatchObject({ outcome: 'failed', message: '&lol9;' });
  });

  it('external entities: rejected, never resolved', () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE t [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<testsuite name="bad.ts"><testcase name="a"><failure message="&xxe;">&xxe;</failure></testcase></testsuite>`;
    expectRejected(write('xxe.xml', xml), /could not read/);
  });

  it('prototype-polluting names are rejected, not applied', () => {
    const f = write('proto.xml', '<testsuite name="bad.ts" __proto__="x"><__proto__ polluted="yes"/><testcase name="a"/></testsuite>');
    const good = join(wd, 'good.xml');
    writeFileSync(good, GOOD);
    const { warnings } = readJUnitFiles([f, good], ['ok.ts'], wd);
    expect(warnings.length).toBeLessThanOrEqual(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('fuzz: arbitrary strings and XML-ish soup never throw', () => {
    const token = fc.constantFrom(
      '<testsuites>', '</testsuites>', '<testsuite name="f.ts">', '</testsuite>', '<testcase name="a" time="1">', '</testcase>',
      '<testcase file="f.ts"/>', '<failure message="m">', '</failure>', '<error/>', '<skipped/>', '<![CDATA[', ']]>', '<!--', '-->',
      '&lt;', '&', '&#x110000;', '&#0;', '<!DOCTYPE a [<!ENTITY e "x">]>', '<?xml version="1.0"?>', '"', '=', '<', '>', ' ', 'x',
    );
    const soup = fc.array(token, { maxLength: 40 }).map((t) => t.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), soup), (xml) => {
        const { cases, warnings } = parseJUnit(xml, 'fuzz.xml');
        expect(Array.isArray(cases) && Array.isArray(warnings)).toBe(true);
        const f = join(wd, 'fuzz.xml');
        writeFileSync(f, xml);
        const r = readJUnitFiles([f], ['f.ts', 'a', ''], wd);
        for (const v of r.results.values()) expect(['passed', 'failed', 'skipped']).toContain(v.outcome);
      }),
      { numRuns: 200 },
    );
  });
});
