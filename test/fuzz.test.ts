// Property tests of what users feed the action: inputs (readInputs, redisUrl, maskUrl) and test ids going
// through the shell (renderCommand/shellQuote). Bounded: a few hundred runs each, a few dozen for the ones
// that spawn a shell; the whole file stays well under 20 s.

import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { beforeEach, describe, expect, test, vi } from 'vitest';

// The password of a URL is registered with core.setSecret, which prints `::add-mask::` on stdout; and
// TLS options warn. Keep them quiet and look at what they were given.
vi.mock('@actions/core', async (importOriginal) => {
  const orig = await importOriginal<typeof import('@actions/core')>();
  return { ...orig, setSecret: vi.fn(), warning: vi.fn(), info: vi.fn() };
});

import * as core from '@actions/core';
import { InputError, maskUrl, readInputs, redisUrl } from '../src/action/inputs.js';
import { renderCommand, shellQuote } from '../src/worker/batch.js';

const setSecret = vi.mocked(core.setSecret);
beforeEach(() => setSecret.mockClear());

const RUNS = 300;

/** Strings a user (or a typo) may put in an input: anything, digits with noise, boolean-ish words. */
const anyInput = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.stringMatching(/^\s{0,2}[+-]?\d{0,20}(\.\d{0,3})?(e\d{1,3})?\s{0,2}$/),
  fc.constantFrom('', ' ', 'true', 'TRUE', ' yes ', 'On', 'off', '0', '1', '-1', '01', '1e3', '0x10', 'Infinity', 'NaN',
    '9007199254740991', '9007199254740993', '99999999999999999999', '١٢', '12\u00a0', 'auto', 'AUTO', 'null', 'undefined'),
);

const INT_INPUTS: Record<string, { field: string; def: number; min: number; max: number; mode: 'controller' | 'both' }> = {
  'batch-size': { field: 'batchSize', def: 10, min: 1, max: 10_000, mode: 'controller' },
  'batch-duration': { field: 'batchDuration', def: 0, min: 0, max: Number.MAX_SAFE_INTEGER, mode: 'controller' },
  workers: { field: 'workers', def: 0, min: 0, max: 10_000, mode: 'controller' },
  'max-attempts': { field: 'maxAttempts', def: 3, min: 1, max: 100, mode: 'controller' },
  retries: { field: 'retries', def: 0, min: 0, max: 100, mode: 'controller' },
  'batch-timeout': { field: 'batchTimeout', def: 0, min: 0, max: Number.MAX_SAFE_INTEGER, mode: 'controller' },
  'heartbeat-ttl': { field: 'heartbeatTtl', def: 30, min: 1, max: Number.MAX_SAFE_INTEGER, mode: 'controller' },
  timeout: { field: 'timeout', def: 0, min: 0, max: Number.MAX_SAFE_INTEGER, mode: 'controller' },
  'no-worker-timeout': { field: 'noWorkerTimeout', def: 600, min: 1, max: Number.MAX_SAFE_INTEGER, mode: 'both' },
  'max-failures': { field: 'maxFailures', def: 0, min: 0, max: Number.MAX_SAFE_INTEGER, mode: 'controller' },
  ttl: { field: 'ttl', def: 86_400, min: 60, max: Number.MAX_SAFE_INTEGER, mode: 'controller' },
};
const BOOL_INPUTS: Record<string, { field: string; def: boolean; mode: 'controller' | 'both' }> = {
  'fail-on-flaky': { field: 'failOnFlaky', def: false, mode: 'controller' },
  timings: { field: 'timings', def: true, mode: 'controller' },
  'redis-insecure': { field: 'redisInsecure', def: false, mode: 'both' },
  'redis-cluster': { field: 'redisCluster', def: false, mode: 'both' },
};
const FUZZED = [...Object.keys(INT_INPUTS), ...Object.keys(BOOL_INPUTS)];

function base(mode: 'controller' | 'worker'): Record<string, string> {
  return { mode, 'redis-url': 'redis://127.0.0.1:6379', 'run-id': 'fuzz', tests: 'a', command: 'true' };
}

const getter = (inputs: Record<string, string>) => (name: string) => inputs[name] ?? '';

describe('readInputs', () => {
  // Found by the property below (fast-check seed 342210580): a value with a newline inside made a
  // two-line error. Every value an error shows is on one line, control characters escaped.
  test.each([
    ['batch-size', '\u0000\n\u0000'],
    ['fail-on-flaky', 'yes\r\nno'],
    ['mode', 'work\ner'],
    ['runner', 'vi\u2028test'],
  ])('a value with control characters in %s: a one-line error that shows them escaped', (name, value) => {
    const inputs = { ...base('controller'), [name]: value };
    expect(() => readInputs(getter(inputs), {})).toThrow(InputError);
    try {
      readInputs(getter(inputs), {});
    } catch (e) {
      const m = (e as Error).message;
      expect(m).toContain(`'${name}'`);
      expect(m).not.toMatch(/[\u0000-\u001f\u2028]/);
      expect(m).toMatch(/\\u00(00|0a|0d)|\\u2028/);
    }
  });

  test('one numeric or boolean input with any value: a valid config, or an InputError naming that input', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FUZZED), anyInput, fc.constantFrom('controller' as const, 'worker' as const), (name, value, mode) => {
        const inputs = { ...base(mode), [name]: value };
        let cfg: ReturnType<typeof readInputs>;
        try {
          cfg = readInputs(getter(inputs), {});
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
          expect((e as Error).message).toContain(`'${name}'`);
          expect((e as Error).message).not.toContain('\n');
          return;
        }
        const raw = value.trim();
        const int = INT_INPUTS[name];
        const bool = BOOL_INPUTS[name];
        const applies = (int ?? bool).mode === 'both' || mode === 'controller';
        if (!applies) return; // a controller input given to a worker is ignored
        const got = (cfg as unknown as Record<string, unknown>)[(int ?? bool).field];
        if (int) {
          if (name === 'batch-duration' && raw.toLowerCase() === 'auto') {
            expect(got).toBe('auto');
          } else if (raw === '') {
            expect(got).toBe(int.def);
          } else {
            // Accepted: exactly the whole number written, within bounds.
            expect(raw).toMatch(/^\d+$/);
            expect(got).toBe(Number(raw));
            expect(Number.isSafeInteger(got)).toBe(true);
            expect(got as number).toBeGreaterThanOrEqual(int.min);
            expect(got as number).toBeLessThanOrEqual(int.max);
          }
        } else {
          const word = raw.toLowerCase();
          if (word === '') expect(got).toBe(bool.def);
          else expect(got).toBe(['true', 'yes', '1', 'on'].includes(word));
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('several inputs with any values at once: only an InputError, naming one of them', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...FUZZED), anyInput, { minKeys: 1, maxKeys: FUZZED.length }), (values) => {
        try {
          readInputs(getter({ ...base('controller'), ...values }), {});
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
          const named = Object.keys(values).filter((n) => (e as Error).message.includes(`'${n}'`));
          expect(named.length, (e as Error).message).toBeGreaterThan(0);
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('any mode, run-id, queue, working-directory or command: only an InputError', () => {
    const names = ['mode', 'run-id', 'queue', 'working-directory', 'command', 'worker-id', 'shell', 'tests', 'redis-ca'];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...names), anyInput, { minKeys: 1 }), fc.constantFrom('controller', 'worker'), (values, mode) => {
        try {
          readInputs(getter({ ...base(mode as 'controller'), ...values }), {});
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

// A password as users write them: any characters, percent-encoded in the URL.
const password = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
const user = fc.oneof(fc.constant(''), fc.constant('default'), fc.string({ unit: 'binary', maxLength: 12 }));
const host = fc.constantFrom('127.0.0.1', 'localhost', 'redis.example.com', '[::1]', 'my-redis-1');
const port = fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: undefined });
const db = fc.option(fc.integer({ min: 0, max: 15 }), { nil: undefined });

function buildUrl(scheme: string, u: string, pw: string, h: string, p?: number, d?: number): string {
  return `${scheme}://${encodeURIComponent(u)}:${encodeURIComponent(pw)}@${h}${p === undefined ? '' : `:${p}`}${d === undefined ? '' : `/${d}`}`;
}

describe('maskUrl', () => {
  test('the output does not depend on the password (it is never shown, whatever its characters)', () => {
    fc.assert(
      fc.property(fc.constantFrom('redis', 'rediss'), user, password, host, port, db, (scheme, u, pw, h, p, d) => {
        const url = buildUrl(scheme, u, pw, h, p, d);
        const masked = maskUrl(url);
        // The same URL with '***' as its password, as the URL class writes it.
        expect(masked).toBe(new URL(buildUrl(scheme, u, '***', h, p, d)).toString());
        expect(new URL(masked).password).toBe('***');
        if (pw.length >= 4) {
          expect(masked.includes(encodeURIComponent(pw)) && !buildUrl(scheme, u, '***', h, p, d).includes(encodeURIComponent(pw))).toBe(false);
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('a password written without percent-encoding is not shown either (or the URL is unparsable)', () => {
    // Users paste passwords as they are. Left out: '@', '/', '?', '#' and '\\' change where the password
    // ends, which no parser can undo; whitespace and ',' separate the URLs of Redis Cluster nodes; the URL
    // parser drops C0 controls.
    const raw = fc.string({ unit: 'binary', minLength: 6, maxLength: 30 }).filter((s) => !/[@/?#\\\s,\x00-\x1f\x7f]/.test(s));
    fc.assert(
      fc.property(raw, host, (pw, h) => {
        const url = `redis://default:${pw}@${h}:6379`;
        const masked = maskUrl(url);
        if (masked === '(unparsable URL)') return;
        expect(masked).not.toContain(pw);
        expect(masked).toContain(':***@');
      }),
      { numRuns: RUNS },
    );
  });

  test('redisUrl registers the decoded password as a secret', () => {
    fc.assert(
      fc.property(user, password, host, port, (u, pw, h, p) => {
        setSecret.mockClear();
        redisUrl(buildUrl('redis', u, pw, h, p), {});
        expect(setSecret).toHaveBeenCalledWith(pw);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('redisUrl', () => {
  const urlish = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.tuple(fc.constantFrom('redis://', 'rediss://', 'http://', 'redis:', 'REDIS://', ''), fc.string({ unit: 'binary' })).map(([a, b]) => a + b),
    // Userinfo with stray percent signs: what a pasted password with '%' looks like.
    fc
      .tuple(fc.string({ maxLength: 5 }), fc.array(fc.constantFrom('%', '%2', '%ZZ', '%E0%A4%A', '%41', 'a', ':', '@'), { maxLength: 6 }), host)
      .map(([u, parts, h]) => `redis://${u}:${parts.join('')}@${h}:6379`),
  );

  // A password with a malformed percent sequence (e.g. `redis://:%ZZ@127.0.0.1:6379`, a pasted password
  // holding '%') is an InputError naming 'redis-url', not a bare "URI malformed" (src/action/inputs.ts redisUrl).
  test('any string (input or environment): a URL, or only an InputError', () => {
    fc.assert(
      fc.property(urlish, fc.constantFrom('input', 'SHARDLESS_REDIS_URL', 'REDIS_URL'), (s, where) => {
        const env = where === 'input' ? {} : { [where]: s };
        try {
          const url = redisUrl(where === 'input' ? s : '', env);
          expect(url.startsWith('redis://') || url.startsWith('rediss://')).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
          expect((e as Error).message).toContain("'redis-url'");
        }
      }),
      { numRuns: RUNS, examples: [['redis://:%ZZ@127.0.0.1:6379', 'input']] },
    );
  });

  test('the same, with well-formed percent-encoding: only an InputError', () => {
    const wellFormed = fc.oneof(
      fc.string().filter((s) => !s.includes('%')),
      fc.tuple(fc.constantFrom('redis://', 'rediss://', 'http://', ''), fc.string({ unit: 'binary' }).filter((s) => !s.includes('%'))).map(([a, b]) => a + b),
    );
    fc.assert(
      fc.property(wellFormed, (s) => {
        try {
          redisUrl(s, {});
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
          expect((e as Error).message).toContain("'redis-url'");
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('renderCommand and shellQuote through a real shell', () => {
  // Any string but NUL (it cannot be in an argv entry); placeholders themselves among them.
  const id = fc.oneof(
    { weight: 5, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.constantFrom('{tests}', '{junit}', '{tests-file}', "'", "'\\''", '$(touch pwned)', '`id`', '-n', '--', '*', '~', '!!', '\\') },
    { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom("'", '"', '\\', '$', '`', ' ', '\n', '\t', '{', '}', '*', '!', ';', '&', '|', '<', '>', '#', '~'), maxLength: 12 }) },
  ).map((s) => s.replace(/\0/g, ''));

  /** Runs the rendered command and returns the arguments printf saw. */
  function argsSeen(shell: string, script: string): string[] {
    const r = spawnSync(shell, ['-c', script], { encoding: 'utf8', cwd: '/tmp', timeout: 5_000 });
    expect(r.status, r.stderr).toBe(0);
    const parts = r.stdout.split('\0');
    expect(parts.pop()).toBe('');
    return parts;
  }

  test.each([['bash', 25], ['sh', 15]] as const)('%s: {tests}, {tests-file} and {junit} become exactly the strings given', (shell, numRuns) => {
    fc.assert(
      fc.property(fc.array(id, { minLength: 1, maxLength: 5 }), id, id, (tests, file, junit) => {
        const script = renderCommand(`printf '%s\\0' {tests-file} {junit} {tests}`, tests, file, junit);
        expect(argsSeen(shell, script)).toEqual([file, junit, ...tests]);
      }),
      { numRuns },
    );
  });

  test('without placeholders the quoted ids are appended; shellQuote alone round-trips', () => {
    fc.assert(
      fc.property(fc.array(id, { minLength: 1, maxLength: 5 }), fc.boolean(), (tests, alone) => {
        const script = alone ? `printf '%s\\0' ${tests.map(shellQuote).join(' ')}` : renderCommand(`printf '%s\\0'`, tests, '/f', '/j');
        expect(argsSeen('bash', script)).toEqual(tests);
      }),
      { numRuns: 20 },
    );
  });
});
