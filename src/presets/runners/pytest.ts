// pytest: xunit1 adds a `file` attribute to each testcase; --rootdir=. makes it relative to the working
// directory.
import { args, notOptions } from '../command.js';
import type { Preset } from '../types.js';

export const pytest: Preset = {
  // pytest reads an argument starting with '-' as an option even after `--`: ./-name instead.
  command: (b) => `python3 -m pytest ${args(b)}--rootdir=. -o junit_family=xunit1 --junitxml={junit} ${notOptions(b.tests)} # files of {tests-file}`,
  needs: { bin: () => ['python3'] },
  noTests: /no tests ran/,
};
