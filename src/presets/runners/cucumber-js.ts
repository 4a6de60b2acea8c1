// cucumber-js: it adds a profile's `paths` to the files given, so our plugin (files/cucumber-batch-only.mjs,
// cucumber-js 12's --plugin) keeps the batch's scenarios only. Its junit names features, not files: our
// formatter (files/cucumber-junit.mjs) names each scenario's file.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { shellQuote } from '../../text.js';
import { args } from '../command.js';
import type { BatchContext, Preset } from '../types.js';

export const cucumberJs: Preset = {
  command: (b) => `npx --no -- cucumber-js ${args(b)}--plugin=${shellQuote(pathToFileURL(join(b.helperDir, 'cucumber-batch-only.mjs')).href)} ` +
    `--format=progress ${cucumberJUnitFormat(b)} -- {tests}`,
  needs: { npm: ['@cucumber/cucumber'] },
  noTests: /^0 scenarios$/m,
  helpers: ['cucumber-batch-only.mjs', 'cucumber-junit.mjs', 'junit.cjs'],
};

/** --format "<our formatter>":"{junit}", the quotes being cucumber-js's own (for paths holding colons). */
function cucumberJUnitFormat(b: BatchContext): string {
  return `--format=${shellQuote(`"${join(b.helperDir, 'cucumber-junit.mjs')}":"`)}{junit}'"'`;
}
