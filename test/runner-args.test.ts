// The runner-args input (src/presets/runner-args.ts, src/action/inputs.ts): shell words without a shell, and errors
// that name the input.

import { describe, expect, test } from 'vitest';
import { InputError, readInputs, type Getter } from '../src/action/inputs.js';
import { parseRunnerArgs } from '../src/presets/runner-args.js';
import { parseArgs, getterOf } from '../src/cli/args.js';

describe('parseRunnerArgs', () => {
  test.each([
    ['', []],
    ["--project 'unit*'", ['--project', 'unit*']],
    ['--project unit*', ['--project', 'unit*']], // a glob reaches the runner as it is
    ['--config scripts/jest/jest.config.js', ['--config', 'scripts/jest/jest.config.js']],
    ['--name "a b" c\\ d \'e "f"\'', ['--name', 'a b', 'c d', 'e "f"']],
    ['--reporter=\'x y\'', ['--reporter=x y']],
    ["'$HOME' '#x' ';'", ['$HOME', '#x', ';']], // quoted: as they are
    ['  -x\n--y  ', ['-x', '--y']],
  ])('%j', (raw, words) => {
    expect(parseRunnerArgs(raw)).toEqual(words);
  });

  test.each([
    ['--config $HOME/x', /variable \$HOME: no shell runs it/],
    ['--config "${HOME}"', /variable \$HOME/],
    ['-x | tee log', /shell operator '\|'/],
    ['-x; rm -rf /', /shell operator ';'/],
    ['-x && y', /shell operator '&&'/],
    ['-x > out', /shell operator '>'/],
    ['-x $(id)', /shell operator|variable/],
    ['-x # note', /comment/],
  ])('%j is refused', (raw, why) => {
    expect(() => parseRunnerArgs(raw)).toThrow(why);
  });
});

describe('the runner-args input', () => {
  const get = (values: Record<string, string>): Getter => (name) => values[name] ?? '';
  const worker = { mode: 'worker', 'redis-url': 'redis://127.0.0.1:6379', 'run-id': 'r', runner: 'vitest' };

  test('the controller gets them too: its listing by the runner uses them', () => {
    expect(readInputs(get({ ...worker, mode: 'controller', 'runner-args': "--project 'unit*'" }), {})).toMatchObject({ runnerArgs: ['--project', 'unit*'] });
  });

  test('a worker with a preset gets the words', () => {
    expect(readInputs(get({ ...worker, 'runner-args': "--project 'unit*'" }), {})).toMatchObject({ runnerArgs: ['--project', 'unit*'] });
    expect(readInputs(get(worker), {})).toMatchObject({ runnerArgs: [] });
  });

  test('errors name the input and show the value', () => {
    expect(() => readInputs(get({ ...worker, 'runner-args': '--config $CFG' }), {})).toThrow(
      new InputError("Input 'runner-args' holds the variable $CFG: no shell runs it, so nothing is expanded (quote it with '...' to pass it as it is), in '--config $CFG'"),
    );
  });

  test('refused with a command, or with no preset: it would have no effect', () => {
    expect(() => readInputs(get({ ...worker, command: 'make test', 'runner-args': '-x' }), {})).toThrow(/^Input 'runner-args' goes into a runner preset's command.*put the arguments there/);
    expect(() => readInputs(get({ ...worker, runner: 'custom', command: 'make test', 'runner-args': '-x' }), {})).toThrow(
      "Input 'runner-args' is for a runner preset, and 'runner' is custom",
    );
  });

  test('the CLI takes --runner-args for worker and run', () => {
    const p = parseArgs(['worker', '--runner', 'jest', '--runner-args', '--config jest.config.js', '--redis-url', 'redis://h:1', '--run-id', 'r']);
    expect(readInputs(getterOf(p), {})).toMatchObject({ runner: 'jest', runnerArgs: ['--config', 'jest.config.js'] });
    expect(parseArgs(['run', "--runner-args=--project 'unit*'"]).values.get('runner-args')).toBe("--project 'unit*'");
  });
});
