// node --test: Node 20's junit reporter names no file, so ours (files/node-test-junit.mjs) writes the JUnit.
import { args, helper } from '../command.js';
import type { Preset } from '../types.js';

export const nodeTest: Preset = {
  command: (b) => `node --test ${args(b)}--test-reporter=spec --test-reporter-destination=stdout ` +
    `--test-reporter=${helper(b, 'node-test-junit.mjs')} --test-reporter-destination={junit} -- {tests}`,
  needs: {},
  helpers: ['node-test-junit.mjs', 'junit.cjs'],
};
