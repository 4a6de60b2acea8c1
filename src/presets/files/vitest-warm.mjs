// Written by shardless (runner presets): vitest's warm runner (see warm.cjs). One vitest instance from the
// project's own vitest (its Node API: createVitest, then runTestSpecifications per batch) keeps the Vite
// server, its transform cache and the globbed test files between batches. Its arguments are runner-args,
// read as vitest's command line reads them; its working directory is the project's. The reporters of the
// project's configuration and of runner-args keep working: shardless's are added beside them, among them
// vitest's blob reporter, which writes each batch's tests (and coverage, when it is on) to reports-dir.

import { createRequire } from 'node:module';
import { realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import warm from './warm.cjs';
import ShardlessCosts from './vitest-costs.mjs';
import ShardlessVitestJUnit from './vitest-junit.mjs';

const cwd = process.cwd();
const junit = new ShardlessVitestJUnit();
let vitest;
/** Absolute module id -> the test specifications that run it (one per project). */
let specs;

const real = (p) => {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
};

/** This batch's blob report, reports-dir/vitest/<worker>-<batch>.json ('' without reports-dir), as the cold command's. */
const blobFile = () => (process.env.SHARDLESS_REPORTS_DIR ? join(process.env.SHARDLESS_REPORTS_DIR, 'vitest', `${process.env.SHARDLESS_REPORT_NAME}.json`) : '');

/** vitest's blob reporter, writing each batch's own file. */
class BatchBlob {
  constructor(BlobReporter) {
    this.blob = new BlobReporter({ get outputFile() { return blobFile(); } });
  }
  onInit(ctx) {
    return this.blob.onInit(ctx);
  }
  onCoverage(coverage) {
    return this.blob.onCoverage(coverage);
  }
  onTestRunEnd(...args) {
    return blobFile() ? this.blob.onTestRunEnd(...args) : undefined;
  }
}

async function init() {
  const require = createRequire(join(cwd, 'package.json'));
  const { createVitest, parseCLI } = await import(pathToFileURL(require.resolve('vitest/node')).href);
  // vitest/reporters names the blob reporter in its map only.
  const { ReportersMap } = await import(pathToFileURL(require.resolve('vitest/reporters')).href);
  const BlobReporter = ReportersMap.blob;
  const { filter, options } = parseCLI(['vitest', 'run', ...process.argv.slice(2)]);
  if (filter.length > 0) process.stderr.write(`shardless: runner-args' file filters (${filter.join(' ')}) are left out: each batch runs its own files\n`);
  delete options['--'];
  vitest = await createVitest('test', { ...options, run: true, watch: false });
  // Beside the configuration's and runner-args' reporters (created by createVitest, told of the run from
  // standalone() on), not instead of them.
  vitest.reporters.push(junit, new ShardlessCosts());
  if (BlobReporter) vitest.reporters.push(new BatchBlob(BlobReporter));
  else process.stderr.write('shardless: this vitest has no blob reporter: no reports in reports-dir\n');
  await vitest.standalone(); // the reporters' onInit, the coverage provider, the projects' set-up
  specs = new Map();
  for (const s of await vitest.globTestSpecifications()) {
    const id = real(s.moduleId);
    specs.set(id, [...(specs.get(id) || []), s]);
  }
}

async function runBatch({ tests }) {
  const chosen = [];
  junit.notFound = [];
  for (const t of tests) {
    const found = specs.get(real(resolve(cwd, t)));
    if (found) chosen.push(...found);
    else junit.notFound.push({ file: resolve(cwd, t), id: t });
  }
  if (chosen.length === 0) {
    await junit.onTestRunEnd([]);
    return 1;
  }
  // The result's testModules are every module run so far: the batch's are its specifications'.
  const { unhandledErrors } = await vitest.runTestSpecifications(chosen);
  const failed = junit.notFound.length > 0 || unhandledErrors.length > 0 || chosen.some((s) => !s.testModule || !s.testModule.ok());
  return failed ? 1 : 0;
}

warm.serve(init, runBatch);
