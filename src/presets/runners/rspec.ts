// rspec: the rspec_junit_formatter gem writes each testcase's file. With a Gemfile, through bundler.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { args } from '../command.js';
import type { Preset } from '../types.js';

export const rspec: Preset = {
  command: (b) => `${bundler(b.cwd) ? 'bundle exec ' : ''}rspec ${args(b)}--format progress --format RspecJunitFormatter --out {junit} -- {tests}`,
  needs: {
    bin: (cwd) => [bundler(cwd) ? 'bundle' : 'rspec'],
    hints: {
      rspec: 'with the rspec_junit_formatter gem, which writes the JUnit XML',
      bundle: 'the Gemfile needs rspec and rspec_junit_formatter, which writes the JUnit XML',
    },
  },
  noTests: /No examples found|^0 examples, 0 failures/m,
};

/** Whether rspec runs through bundler (`bundle exec rspec`): a Gemfile in the working directory. */
export function bundler(cwd: string): boolean {
  return existsSync(join(cwd, 'Gemfile'));
}
