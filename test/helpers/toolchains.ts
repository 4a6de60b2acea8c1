// Which runners' toolchains are on this machine, for the tests that run the real runners. The npm
// runners are devDependencies; pytest, go with gotestsum, and ruby with rspec come from Debian (.ci/run
// installs them). A test whose toolchain is missing is skipped, but fails under CI=true, where .ci/run
// installs it.
import { spawnSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './action.js';

export const has = (cmd: string, ...args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

/**
 * A PATH whose python3 has pytest: the PATH as it is, or with Debian's python3 first (.ci/run installs
 * python3-pytest for it when the python3 on the PATH, a pyenv one say, has no pytest). '' when none has.
 */
function pythonWithPytest(): string {
  const path = process.env.PATH ?? '';
  if (has('python3', '-m', 'pytest', '--version')) return path;
  if (!has('/usr/bin/python3', '-m', 'pytest', '--version')) return '';
  const bin = tempDir('shardless-python-');
  symlinkSync('/usr/bin/python3', join(bin, 'python3'));
  return `${bin}:${path}`;
}

export const PYTHON_PATH = pythonWithPytest();

/** What is missing for each runner that is not an npm package ('' when nothing is). */
export const MISSING: Record<'pytest' | 'go-test' | 'rspec', () => string> = {
  pytest: () => (PYTHON_PATH ? '' : 'python3 -m pytest'),
  'go-test': () => ['go', 'gotestsum'].filter((c) => !has('which', c)).join(', '),
  rspec: () => (has('rspec', '--version') && has('ruby', '-e', 'require "rspec_junit_formatter"') ? '' : 'rspec, rspec_junit_formatter'),
};

/** Whether to skip a test whose toolchain misses `missing`: never under CI=true (requireInstalled fails it). */
export const skipMissing = (missing: string): boolean => missing !== '' && process.env.CI !== 'true';

/** Fails the test, naming what is missing, when its toolchain is not installed. */
export function requireInstalled(runner: string, missing: string): void {
  if (missing !== '') throw new Error(`runner ${runner}: ${missing} is not installed (under CI=true, .ci/run installs it, and no test skips for it)`);
}
