// The pieces the runners' commands (src/presets/runners) are made of: where a batch's own reports go,
// a helper's path, runner-args, and file arguments that no runner reads as options.
import { join } from 'node:path';
import { CMD_ENV } from '../names.js';
import { shellQuote } from '../text.js';
import type { HelperName } from './helpers.js';
import type { BatchContext } from './types.js';

/**
 * The runners' own reports (README, "Reports"): each batch's go to reports-dir/<kind>/<worker>-<batch><ext>,
 * a path the shell makes from the batch's environment. The warm runners make the same paths.
 */
export const REPORT_KINDS = { vitest: 'vitest', jest: 'jest-coverage', playwright: 'playwright' } as const;
export const reportPath = (kind: string, ext = '') => `"$${CMD_ENV.reportsDir}/${kind}/$${CMD_ENV.reportName}${ext}"`;

/** A helper file (src/presets/files) as the worker wrote it for the batch, shell-quoted. */
export const helper = (b: BatchContext, name: HelperName) => shellQuote(join(b.helperDir, name));

/** runner-args, shell-quoted, with the space that separates them from what follows. */
export const args = (b: BatchContext) => b.args.map((a) => `${shellQuote(a)} `).join('');

/**
 * The batch's files as arguments that no runner reads as options (for runners where `--` does not do
 * that): a path starting with '-' is given as ./path, the same file. Shell-quoted.
 */
export function notOptions(tests: string[]): string {
  return tests.map((t) => shellQuote(t.startsWith('-') ? `./${t}` : t)).join(' ');
}
