// The helpers the presets load: the files of src/presets/files (reporters that write JUnit XML with each
// testcase's file, costs reporters, warm runners), read like the Lua scripts and written by the worker
// into its temporary folder, from which a batch's command loads them.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// One literal URL per file, so that ncc sees each asset and copies it next to the bundle.
const HELPER_FILES = {
  'vitest-costs.mjs': new URL('./files/vitest-costs.mjs', import.meta.url),
  'vitest-junit.mjs': new URL('./files/vitest-junit.mjs', import.meta.url),
  'vitest-warm.mjs': new URL('./files/vitest-warm.mjs', import.meta.url),
  'jest-costs.cjs': new URL('./files/jest-costs.cjs', import.meta.url),
  'jest-warm.cjs': new URL('./files/jest-warm.cjs', import.meta.url),
  'warm.cjs': new URL('./files/warm.cjs', import.meta.url),
  // Reporters that write JUnit XML with each testcase's file, and the writer they share.
  'junit.cjs': new URL('./files/junit.cjs', import.meta.url),
  'node-test-junit.mjs': new URL('./files/node-test-junit.mjs', import.meta.url),
  'jest-junit.cjs': new URL('./files/jest-junit.cjs', import.meta.url),
  'playwright-junit.mjs': new URL('./files/playwright-junit.mjs', import.meta.url),
  'cucumber-junit.mjs': new URL('./files/cucumber-junit.mjs', import.meta.url),
  'cucumber-batch-only.mjs': new URL('./files/cucumber-batch-only.mjs', import.meta.url),
} as const;

export type HelperName = keyof typeof HELPER_FILES;

/** A helper's text: a file of src/presets/files. */
export function helperSource(name: HelperName): string {
  return readFileSync(HELPER_FILES[name], 'utf8');
}

/** Writes the helper files into `dir`. */
export function writeHelperFiles(files: readonly HelperName[], dir: string): void {
  if (files.length === 0) return;
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(join(dir, f), helperSource(f));
}
