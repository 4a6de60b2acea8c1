// vitest: its JUnit reporter for a batch run, ours for each file's whole cost (files/vitest-costs.mjs),
// its blob report for reports-dir, and a warm runner (files/vitest-warm.mjs).
//
// vitest takes file arguments as substring filters (`a.test.ts` also selects `data.test.ts`), so every
// other file whose path holds a batch file's name is excluded by its exact path.
import { posix, resolve } from 'node:path';
import { shellQuote } from '../../text.js';
import { REPORT_KINDS, args, helper, notOptions, reportPath } from '../command.js';
import { allFiles, isFile } from '../listing.js';
import type { BatchContext, Preset } from '../types.js';

export const vitest: Preset = {
  // vitest drops the arguments after `--`: a file whose name starts with '-' is given as ./-name instead.
  // (The comment keeps src/worker/batch.ts from appending the ids, which it does to a command naming none.)
  command: (b) => `npx --no -- vitest run ${args(b)}--reporter=default --reporter=junit --outputFile.junit={junit} ` +
    `--reporter=${helper(b, 'vitest-costs.mjs')} --reporter=blob --outputFile.blob=${reportPath(REPORT_KINDS.vitest, '.json')}` +
    `${vitestExcludes(b)} ${notOptions(b.tests)} # files of {tests-file}`,
  needs: { npm: ['vitest'] },
  noTests: /No test files found/,
  helpers: ['vitest-costs.mjs', 'vitest-junit.mjs', 'vitest-warm.mjs', 'warm.cjs', 'junit.cjs'],
  warm: 'vitest-warm.mjs',
};

/** picomatch's escape, for vitest's --exclude. */
const picomatchEscape = (s: string) => s.replace(/[\\*?[\]{}()!+@|^$]/g, '\\$&');

/**
 * ` --exclude <path>` for each file vitest's substring filters would add to the batch: a file whose
 * path holds the name of a batch file (case-insensitively, as vitest compares). Nothing when an id is
 * not a file (a folder, say), whose filter is then meant to select more.
 */
export function vitestExcludes(b: BatchContext): string {
  if (!b.tests.every((t) => isFile(resolve(b.cwd, t)))) return '';
  const batch = new Set(b.tests.map((t) => posix.normalize(t.replace(/^\.\//, ''))));
  const names = [...new Set(b.tests.map((t) => posix.basename(t).toLowerCase()))];
  const extra = allFiles(b.cwd).filter((f) => !batch.has(f) && names.some((n) => f.toLowerCase().includes(n)));
  return extra.map((f) => ` --exclude=${shellQuote(picomatchEscape(f))}`).join('');
}
