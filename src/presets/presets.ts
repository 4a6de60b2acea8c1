// Runner presets (input `runner`), gathered from src/presets/runners (one file per runner). For the
// worker, a preset gives the command that runs exactly the files of a batch and writes JUnit XML whose
// testcases src/report/junit-read.ts maps back to those files. (The controller has the runner itself list
// the tests: src/presets/discovery.) A user's `tests`/`tests-file`/`tests-command` or `command` still wins
// over the preset.
//
// Test ids are paths relative to working-directory (go-test: package import paths), which should be the
// runner's root: where its config lives (vitest `root`, jest `rootDir`, pytest's ini file).
//
// Where a runner's own JUnit names no file (node --test on Node 20, cucumber-js), names it relative to
// something else than the working directory (playwright: its testDir), or needs a package the user may
// not have (jest: jest-junit), the worker writes a small reporter of ours into its temporary folder
// and the command loads it from there. vitest's and jest's also get a reporter that writes each file's
// whole measured cost ($SHARDLESS_COSTS, src/worker/costs.ts) and a warm runner (src/worker/warm.ts).
// These helpers are the files of src/presets/files (src/presets/helpers.ts), copied next to the bundle.
import * as core from '@actions/core';
import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { shellQuote } from '../text.js';
import { writeHelperFiles } from './helpers.js';
import { isFile } from './listing.js';
import { cucumberJs } from './runners/cucumber-js.js';
import { goTest } from './runners/go-test.js';
import { jest } from './runners/jest.js';
import { mocha } from './runners/mocha.js';
import { nodeTest } from './runners/node-test.js';
import { playwright } from './runners/playwright.js';
import { pytest } from './runners/pytest.js';
import { rspec } from './runners/rspec.js';
import { vitest } from './runners/vitest.js';
import type { Preset, PresetName } from './types.js';

export { RUNNERS, isRunner, type BatchContext, type FileListing, type Preset, type PresetName, type RunnerName } from './types.js';

export const PRESETS: Record<PresetName, Preset> = {
  vitest,
  jest,
  mocha,
  'node-test': nodeTest,
  playwright,
  'cucumber-js': cucumberJs,
  pytest,
  'go-test': goTest,
  rspec,
};

// ---- what the command needs (worker) ----

function npmPackageFound(pkg: string, cwd: string): boolean {
  for (let dir = resolve(cwd); ; dir = resolve(dir, '..')) {
    if (existsSync(join(dir, 'node_modules', pkg, 'package.json'))) return true;
    if (dir === resolve(dir, '..')) return false;
  }
}

function programFound(name: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && isFile(join(dir, name)));
}

/** Throws, naming what is missing and how to get it, when the preset's command cannot run here. */
export function checkNeeds(name: PresetName, cwd: string, env: NodeJS.ProcessEnv = process.env): void {
  const { needs } = PRESETS[name];
  for (const pkg of needs.npm ?? []) {
    if (!npmPackageFound(pkg, cwd)) {
      throw new Error(`runner '${name}' needs the npm package '${pkg}', which is not installed in ${cwd} or above ` +
        `(run 'npm ci', or 'npm install --save-dev ${pkg}'; or give the worker a 'command')`);
    }
  }
  for (const bin of needs.bin?.(cwd) ?? []) {
    if (!programFound(bin, env)) {
      const hint = needs.hints?.[bin];
      throw new Error(`runner '${name}' needs '${bin}' on the PATH, which is not there${hint ? ` (${hint})` : ''}; or give the worker a 'command'`);
    }
  }
}

// ---- running a batch with it (worker) ----

/** What a worker without `command` runs each batch with. */
export interface PresetUse {
  /** The batch's command, for its files. */
  render: (tests: string[]) => string;
  /** The warm runner to start (node <script> <args...>), when the preset has one. */
  warm?: { script: string; args: string[] };
}

/**
 * For a worker without `command`: checks that the preset can run here, writes its helpers into
 * helperDir, logs its command, and returns how to run a batch.
 */
export function usePreset(name: PresetName, cwd: string, helperDir: string, runnerArgs: string[] = []): PresetUse {
  checkNeeds(name, cwd);
  writeHelpers(name, helperDir);
  const preset = PRESETS[name];
  const render = (tests: string[]) => preset.command({ tests, cwd, helperDir, args: runnerArgs });
  const warm = preset.warm && { script: join(helperDir, preset.warm), args: runnerArgs };
  core.info(`runner ${name}: ${warm ? `each batch runs in a warm ${name} (node ${warm.script}${runnerArgs.map((a) => ` ${shellQuote(a)}`).join('')}); ` +
    'a batch of a requeued test runs alone as ' : 'each batch runs '}${render(['<file>'])}`);
  return { render, ...(warm ? { warm } : {}) };
}

/** Writes the preset's helper files into `dir`. */
export function writeHelpers(name: PresetName, dir: string): void {
  writeHelperFiles(PRESETS[name].helpers ?? [], dir);
}
