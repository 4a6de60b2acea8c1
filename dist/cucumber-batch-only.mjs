// Written by shardless (runner presets): a cucumber-js plugin that keeps the scenarios of the batch's
// feature files only (cucumber-js adds the paths of the configuration's profile to those it is given).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export default {
  type: 'plugin',
  coordinator({ transform, environment }) {
    const file = environment.env.SHARDLESS_TESTS_FILE;
    if (!file) return;
    const cwd = environment.cwd;
    const keep = new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean).map((t) => resolve(cwd, t.replace(/(:\d+)+$/, ''))));
    transform('pickles:filter', (pickles) => pickles.filter((p) => keep.has(resolve(cwd, p.pickle.uri))));
  },
};
