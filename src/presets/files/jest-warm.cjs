'use strict';
// Written by shardless (runner presets): jest's warm runner (see warm.cjs). The project's own jest stays
// loaded, and runCLI runs each batch's files in band, so a batch pays for its files and not for starting
// node and jest again; jest's caches (transforms, haste map) stay warm. Its arguments are runner-args, read
// as jest's command line reads them (buildArgv); its working directory is the project's. The reporters of
// runner-args or of the project's configuration keep running beside shardless's.
const { createRequire } = require('node:module');
const { join } = require('node:path');
const { serve } = require('./warm.cjs');

const cwd = process.cwd();
const args = process.argv.slice(2);
const ours = [join(__dirname, 'jest-junit.cjs'), join(__dirname, 'jest-costs.cjs')];
// In band unless runner-args choose how jest runs its files.
const inBand = args.some((a) => /^(-w|-i|--maxWorkers|--max-workers|--runInBand|--run-in-band)(=|$)/.test(a)) ? [] : ['--runInBand'];
let jest;
/** jest-config's readConfigs, from the project's jest. */
let readConfigs;
/** The reporters of runner-args (--reporters) or else of the configuration, read once. */
let theirs;

/**
 * The batch's reporters: the user's (runner-args', else the configuration's, else jest's default) and
 * shardless's beside them; jest's --reporters would replace the configuration's.
 */
async function reporters(argv, projects) {
  if (!theirs) {
    theirs = argv.reporters && argv.reporters.length > 0 ? argv.reporters : (await readConfigs(argv, projects)).globalConfig.reporters || ['default'];
  }
  return [...theirs, ...ours];
}

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
    const project = createRequire(join(cwd, 'package.json'));
    jest = project('jest');
    // jest-config comes with jest, through jest-cli.
    readConfigs = createRequire(createRequire(project.resolve('jest')).resolve('jest-cli'))('jest-config').readConfigs;
  },
  async ({ tests }) => {
    const argv = await jest.buildArgv([...args, '--ci', ...inBand, ...coverage(), '--runTestsByPath', '--', ...tests]);
    const projects = argv.projects && argv.projects.length > 0 ? argv.projects : [cwd];
    argv.reporters = await reporters(argv, projects);
    const { results } = await jest.runCLI(argv, projects);
    return results.success ? 0 : 1;
  },
);
