// jest: our JUnit reporter (files/jest-junit.cjs: the user need not have jest-junit) and costs reporter
// (files/jest-costs.cjs), its JSON coverage for reports-dir, and a warm runner (files/jest-warm.cjs).
// --runTestsByPath: paths, not regular expressions.
import { REPORT_KINDS, args, helper, reportPath } from '../command.js';
import type { Preset } from '../types.js';

export const jest: Preset = {
  command: (b) => `npx --no -- jest ${args(b)}--ci --reporters=default --reporters=${helper(b, 'jest-junit.cjs')} ` +
    `--reporters=${helper(b, 'jest-costs.cjs')} --coverageReporters=json --coverageDirectory=${reportPath(REPORT_KINDS.jest)} --runTestsByPath -- {tests}`,
  needs: { npm: ['jest'] },
  noTests: /No tests found/,
  helpers: ['jest-junit.cjs', 'jest-costs.cjs', 'jest-warm.cjs', 'warm.cjs', 'junit.cjs'],
  warm: 'jest-warm.cjs',
};
