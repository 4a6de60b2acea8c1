// mocha: its built-in xunit reporter writes each testcase's file. mocha adds the `spec` of
// .mocharc/package.json to the files given: the negated --ignore keeps only the batch's.
import { shellQuote } from '../../text.js';
import { args } from '../command.js';
import type { Preset } from '../types.js';

export const mocha: Preset = {
  command: (b) => `npx --no -- mocha ${args(b)}--reporter=xunit --reporter-option=output={junit} --ignore=${shellQuote(mochaKeepOnly(b.tests))} -- {tests}`,
  needs: { npm: ['mocha'] },
  noTests: /No test files found/,
};

/**
 * mocha's --ignore pattern that ignores every file but the batch's (minimatch, whose `\` mocha makes a
 * path separator: a character that glob syntax or braces would read becomes `?`).
 */
export function mochaKeepOnly(tests: string[]): string {
  const literal = (t: string) => t.replace(/[\\*?[\]{}()!+@,#]/g, '?');
  const files = [...new Set(tests.map(literal))];
  return files.length === 1 ? `!${files[0]}` : `!{${files.join(',')}}`;
}
