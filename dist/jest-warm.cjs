'use strict';
// Written by shardless (runner presets): jest's warm runner (see warm.cjs). The project's own jest stays
// loaded, and runCLI runs each batch's files in band, so a batch pays for its files and not for starting
// node and jest again; jest's caches (transforms, haste map) stay warm. Its arguments are runner-args, read
// as jest's command line reads them (buildArgv); its working directory is the project's.
const { createRequire } = require('node:module');
const { join } = require('node:path');
const { serve } = require('./warm.cjs');

const cwd = process.cwd();
const args = process.argv.slice(2);
const reporters = ['--reporters=default', `--reporters=${join(__dirname, 'jest-junit.cjs')}`, `--reporters=${join(__dirname, 'jest-costs.cjs')}`];
// In band unless runner-args choose how jest runs its files.
const inBand = args.some((a) => /^(-w|-i|--maxWorkers|--max-workers|--runInBand|--run-in-band)(=|$)/.test(a)) ? [] : ['--runInBand'];
let jest;

/**
 * When coverage is on (configuration or runner-args), this batch's coverage JSON goes to
 * reports-dir/jest-coverage/<worker>-<batch>/coverage-final.json, as the cold command's does.
 */
const coverage = () => {
  const dir = process.env.SHARDLESS_REPORTS_DIR;
  return dir ? ['--coverageReporters=json', `--coverageDirectory=${join(dir, 'jest-coverage', process.env.SHARDLESS_REPORT_NAME)}`] : [];
};

serve(
  () => {
    jest = createRequire(join(cwd, 'package.json'))('jest');
  },
  async ({ tests }) => {
    const argv = await jest.buildArgv([...args, '--ci', ...inBand, ...reporters, ...coverage(), '--runTestsByPath', '--', ...tests]);
    const projects = argv.projects && argv.projects.length > 0 ? argv.projects : [cwd];
    const { results } = await jest.runCLI(argv, projects);
    return results.success ? 0 : 1;
  },
);
