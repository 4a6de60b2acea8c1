// playwright: file arguments are regular expressions over absolute paths, so anchored ones select
// exactly. Its junit reporter names files relative to testDir: ours (files/playwright-junit.mjs) writes
// absolute ones. Its blob report goes to reports-dir.
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { escapeRegExp, shellQuote } from '../../text.js';
import { REPORT_KINDS, args, helper, reportPath } from '../command.js';
import type { BatchContext, Preset } from '../types.js';

export const playwright: Preset = {
  // (The comment keeps src/worker/batch.ts from appending the ids, which it does to a command naming none.)
  // Its blob reporter takes its file from the environment; given one, it removes no earlier batch's.
  command: (b) => `PLAYWRIGHT_BLOB_OUTPUT_FILE=${reportPath(REPORT_KINDS.playwright, '.zip')} npx --no -- playwright test ${args(b)}` +
    `--reporter=list,${helper(b, 'playwright-junit.mjs')},blob ${playwrightFiles(b)} # files of {tests-file}`,
  needs: { npm: ['@playwright/test'] },
  noTests: /No tests found/,
  helpers: ['playwright-junit.mjs', 'junit.cjs'],
};

/** Playwright file filters `/^<absolute path>$/`, one per test, shell-quoted. */
export function playwrightFiles(b: BatchContext): string {
  let root = b.cwd;
  try {
    root = realpathSync(b.cwd); // playwright sees the real path, as process.cwd() gives it
  } catch {
    // keep it as given
  }
  return b.tests.map((t) => shellQuote(`/^${escapeRegExp(resolve(root, t))}$/`)).join(' ');
}
