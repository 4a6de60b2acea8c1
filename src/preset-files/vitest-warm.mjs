// Written by shardless (runner presets): vitest's warm runner (see warm.cjs). One vitest instance from the
// project's own vitest (its Node API: createVitest, then runTestSpecifications per batch) keeps the Vite
// server, its transform cache and the globbed test files between batches. Its arguments are runner-args,
// read as vitest's command line reads them; its working directory is the project's.

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

async function init() {
  const node = createRequire(join(cwd, 'package.json')).resolve('vitest/node');
  const { createVitest, parseCLI } = await import(pathToFileURL(node).href);
  const { filter, options } = parseCLI(['vitest', 'run', ...process.argv.slice(2)]);
  if (filter.length > 0) process.stderr.write(`shardless: runner-args' file filters (${filter.join(' ')}) are left out: each batch runs its own files\n`);
  delete options['--'];
  vitest = await createVitest('test', { ...options, run: true, watch: false, reporters: ['default', junit, new ShardlessCosts()] });
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
