// Runner presets (input `runner`). For the worker, a preset gives the command that runs exactly the files
// of a batch and writes JUnit XML whose testcases src/report/junit-read.ts maps back to those files. (The controller
// has the runner itself list the tests: src/discovery.) A user's `tests`/`tests-file`/`tests-command` or
// `command` still wins over the preset.
//
// Test ids are paths relative to working-directory (go-test: package import paths), which should be the
// runner's root: where its config lives (vitest `root`, jest `rootDir`, pytest's ini file).
//
// Where a runner's own JUnit names no file (node --test on Node 20, cucumber-js), names it relative to
// something else than the working directory (playwright: its testDir), or needs a package the user may
// not have (jest: jest-junit), the worker writes a small reporter of ours into its temporary folder
// and the command loads it from there. vitest's and jest's also get a reporter that writes each file's
// whole measured cost ($SHARDLESS_COSTS, src/worker/costs.ts) and a warm runner (src/worker/warm.ts).
// These helpers are the files of src/presets/files, copied next to the bundle.
import * as core from '@actions/core';
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join, posix, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { escapeRegExp, shellQuote } from '../text.js';
import { CMD_ENV } from '../names.js';

export const RUNNERS = ['custom', 'vitest', 'jest', 'mocha', 'node-test', 'playwright', 'cucumber-js', 'pytest', 'go-test', 'rspec'] as const;
export type RunnerName = (typeof RUNNERS)[number];
export type PresetName = Exclude<RunnerName, 'custom'>;

export function isRunner(name: string): name is RunnerName {
  return (RUNNERS as readonly string[]).includes(name);
}

/** What a command is rendered from, for one batch. */
export interface BatchContext {
  tests: string[];
  /** The working directory (absolute). */
  cwd: string;
  /** Where the worker wrote the preset's helpers (src/presets/files). */
  helperDir: string;
  /** runner-args: words added to the runner's command line. */
  args: string[];
}

export interface FileListing {
  /** Whether a path relative to the working directory ('/'-separated) is a test file. */
  match: (path: string) => boolean;
  /** Folder names never entered. */
  skipDir: RegExp;
}

export interface Preset {
  /** The batch's command; it may hold {tests}, {tests-file} and {junit} (see src/worker/batch.ts). */
  command: (b: BatchContext) => string;
  /** npm packages (found from the working directory up) and programs (on PATH) that the command needs. */
  needs: { npm?: string[]; bin?: (cwd: string) => string[] };
  /** Helper files the command (or the warm runner) loads from BatchContext.helperDir. */
  helpers?: HelperName[];
  /**
   * A warm runner (src/worker/warm.ts): a helper that node runs once per worker with runner-args as its
   * arguments, and that then runs each batch sent to it, writing the same JUnit and costs files.
   */
  warm?: HelperName;
  /** The runner's words, in a batch's output, when it found no test in the files it was given. */
  noTests?: RegExp;
}

const JS_SKIP = /^(node_modules|\.git)$/;

/**
 * The runners' own reports (README, "Reports"): each batch's go to reports-dir/<kind>/<worker>-<batch><ext>,
 * a path the shell makes from the batch's environment. The warm runners make the same paths.
 */
export const REPORT_KINDS = { vitest: 'vitest', jest: 'jest-coverage', playwright: 'playwright' } as const;
const reportPath = (kind: string, ext = '') => `"$${CMD_ENV.reportsDir}/${kind}/$${CMD_ENV.reportName}${ext}"`;
const base = (p: string) => posix.basename(p);
const helper = (b: BatchContext, name: HelperName) => shellQuote(join(b.helperDir, name));
/** runner-args, shell-quoted, with the space that separates them from what follows. */
const args = (b: BatchContext) => b.args.map((a) => `${shellQuote(a)} `).join('');

export const PRESETS: Record<PresetName, Preset> = {
  // vitest takes file arguments as substring filters (`a.test.ts` also selects `data.test.ts`), so every
  // other file whose path holds a batch file's name is excluded by its exact path.
  vitest: {
    // vitest drops the arguments after `--`: a file whose name starts with '-' is given as ./-name instead.
    // (The comment keeps src/worker/batch.ts from appending the ids, which it does to a command naming none.)
    command: (b) => `npx --no -- vitest run ${args(b)}--reporter=default --reporter=junit --outputFile.junit={junit} ` +
      `--reporter=${helper(b, 'vitest-costs.mjs')} --reporter=blob --outputFile.blob=${reportPath(REPORT_KINDS.vitest, '.json')}` +
      `${vitestExcludes(b)} ${notOptions(b.tests)} # files of {tests-file}`,
    needs: { npm: ['vitest'] },
    noTests: /No test files found/,
    helpers: ['vitest-costs.mjs', 'vitest-junit.mjs', 'vitest-warm.mjs', 'warm.cjs', 'junit.cjs'],
    warm: 'vitest-warm.mjs',
  },
  // --runTestsByPath: paths, not regular expressions. jest-junit is not needed: files/jest-junit.cjs is.
  jest: {
    command: (b) => `npx --no -- jest ${args(b)}--ci --reporters=default --reporters=${helper(b, 'jest-junit.cjs')} ` +
      `--reporters=${helper(b, 'jest-costs.cjs')} --coverageReporters=json --coverageDirectory=${reportPath(REPORT_KINDS.jest)} --runTestsByPath -- {tests}`,
    needs: { npm: ['jest'] },
    noTests: /No tests found/,
    helpers: ['jest-junit.cjs', 'jest-costs.cjs', 'jest-warm.cjs', 'warm.cjs', 'junit.cjs'],
    warm: 'jest-warm.cjs',
  },
  // mocha adds the `spec` of .mocharc/package.json to the files given: the negated --ignore keeps only
  // the batch's. Its built-in xunit reporter writes each testcase's file.
  mocha: {
    command: (b) => `npx --no -- mocha ${args(b)}--reporter=xunit --reporter-option=output={junit} --ignore=${shellQuote(mochaKeepOnly(b.tests))} -- {tests}`,
    needs: { npm: ['mocha'] },
    noTests: /No test files found/,
  },
  // Node 20's junit reporter names no file: files/node-test-junit.mjs does.
  'node-test': {
    command: (b) => `node --test ${args(b)}--test-reporter=spec --test-reporter-destination=stdout ` +
      `--test-reporter=${helper(b, 'node-test-junit.mjs')} --test-reporter-destination={junit} -- {tests}`,
    needs: {},
    helpers: ['node-test-junit.mjs', 'junit.cjs'],
  },
  // File arguments are regular expressions over absolute paths: anchored ones select exactly. Its junit
  // reporter names files relative to testDir: files/playwright-junit.mjs writes absolute ones.
  playwright: {
    // (The comment keeps src/worker/batch.ts from appending the ids, which it does to a command naming none.)
    // Its blob reporter takes its file from the environment; given one, it removes no earlier batch's.
    command: (b) => `PLAYWRIGHT_BLOB_OUTPUT_FILE=${reportPath(REPORT_KINDS.playwright, '.zip')} npx --no -- playwright test ${args(b)}` +
      `--reporter=list,${helper(b, 'playwright-junit.mjs')},blob ${playwrightFiles(b)} # files of {tests-file}`,
    needs: { npm: ['@playwright/test'] },
    noTests: /No tests found/,
    helpers: ['playwright-junit.mjs', 'junit.cjs'],
  },
  // cucumber-js adds a profile's `paths` to the files given: files/cucumber-batch-only.mjs keeps the batch's scenarios
  // only (cucumber-js 12's --plugin). Its junit names features, not files: files/cucumber-junit.mjs does.
  'cucumber-js': {
    command: (b) => `npx --no -- cucumber-js ${args(b)}--plugin=${shellQuote(pathToFileURL(join(b.helperDir, 'cucumber-batch-only.mjs')).href)} ` +
      `--format=progress ${cucumberJUnitFormat(b)} -- {tests}`,
    needs: { npm: ['@cucumber/cucumber'] },
    noTests: /^0 scenarios$/m,
    helpers: ['cucumber-batch-only.mjs', 'cucumber-junit.mjs', 'junit.cjs'],
  },
  // xunit1 adds a `file` attribute; --rootdir=. makes it relative to the working directory.
  pytest: {
    // pytest reads an argument starting with '-' as an option even after `--`: ./-name instead.
    command: (b) => `python3 -m pytest ${args(b)}--rootdir=. -o junit_family=xunit1 --junitxml={junit} ${notOptions(b.tests)} # files of {tests-file}`,
    needs: { bin: () => ['python3'] },
    noTests: /no tests ran/,
  },
  // Ids are import paths of the packages that have tests; gotestsum names its testsuites after them.
  'go-test': {
    // runner-args go to go test (after gotestsum's --).
    command: (b) => `gotestsum --format=testname --junitfile={junit} -- ${args(b)}{tests}`,
    needs: { bin: () => ['go', 'gotestsum'] },
  },
  // The rspec_junit_formatter gem writes each testcase's file.
  rspec: {
    command: (b) => `${bundler(b.cwd) ? 'bundle exec ' : ''}rspec ${args(b)}--format progress --format RspecJunitFormatter --out {junit} -- {tests}`,
    needs: { bin: (cwd) => [bundler(cwd) ? 'bundle' : 'rspec'] },
    noTests: /No examples found|^0 examples, 0 failures/m,
  },
};

/**
 * The batch's files as arguments that no runner reads as options (for runners where `--` does not do
 * that): a path starting with '-' is given as ./path, the same file. Shell-quoted.
 */
export function notOptions(tests: string[]): string {
  return tests.map((t) => shellQuote(t.startsWith('-') ? `./${t}` : t)).join(' ');
}

/** --format "<our formatter>":"{junit}", the quotes being cucumber-js's own (for paths holding colons). */
function cucumberJUnitFormat(b: BatchContext): string {
  return `--format=${shellQuote(`"${join(b.helperDir, 'cucumber-junit.mjs')}":"`)}{junit}'"'`;
}

/** Whether rspec runs through bundler (`bundle exec rspec`): a Gemfile in the working directory. */
export function bundler(cwd: string): boolean {
  return existsSync(join(cwd, 'Gemfile'));
}

// ---- walking the working directory ----

/** The files under `cwd` that the listing matches, relative and sorted. */
export function listFiles(listing: FileListing, cwd: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, rel: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // unreadable folder: nothing from it
    }
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!listing.skipDir.test(e.name)) walk(join(dir, e.name), path);
      } else if ((e.isFile() || (e.isSymbolicLink() && isFile(join(dir, e.name)))) && listing.match(path)) {
        found.push(path);
      }
    }
  };
  walk(cwd, '');
  return found.sort();
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

// ---- per-batch arguments (worker) ----

const ALL_FILES = new Map<string, string[]>();

/** Every file under cwd but node_modules and .git, walked once per worker. */
function allFiles(cwd: string): string[] {
  let files = ALL_FILES.get(cwd);
  if (!files) {
    files = listFiles({ match: () => true, skipDir: JS_SKIP }, cwd);
    ALL_FILES.set(cwd, files);
  }
  return files;
}

/** picomatch's escape, for vitest's --exclude. */
const picomatchEscape = (s: string) => s.replace(/[\\*?[\]{}()!+@|^$]/g, '\\$&');

/**
 * ` --exclude <path>` for each file vitest's substring filters would add to the batch: a file whose
 * path holds the name of a batch file (case-insensitively, as vitest compares). Nothing when an id is
 * not a file (a folder, say), whose filter is then meant to select more.
 */
export function vitestExcludes(b: BatchContext): string {
  if (!b.tests.every((t) => isFile(resolve(b.cwd, t)))) return '';
  const batch = new Set(b.tests.map((t) => posix.normalize(t.replace(/^\.\//, ''))));
  const names = [...new Set(b.tests.map((t) => base(t).toLowerCase()))];
  const extra = allFiles(b.cwd).filter((f) => !batch.has(f) && names.some((n) => f.toLowerCase().includes(n)));
  return extra.map((f) => ` --exclude=${shellQuote(picomatchEscape(f))}`).join('');
}

/**
 * mocha's --ignore pattern that ignores every file but the batch's (minimatch, whose `\` mocha makes a
 * path separator: a character that glob syntax or braces would read becomes `?`).
 */
export function mochaKeepOnly(tests: string[]): string {
  const literal = (t: string) => t.replace(/[\\*?[\]{}()!+@,#]/g, '?');
  const files = [...new Set(tests.map(literal))];
  return files.length === 1 ? `!${files[0]}` : `!{${files.join(',')}}`;
}

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
      throw new Error(`runner '${name}' needs '${bin}' on the PATH, which is not there${BIN_HINT[bin] ? ` (${BIN_HINT[bin]})` : ''}; or give the worker a 'command'`);
    }
  }
}

const BIN_HINT: Record<string, string> = {
  gotestsum: "it writes the JUnit XML: 'go install gotest.tools/gotestsum@latest', or Debian's gotestsum package",
  rspec: "with the rspec_junit_formatter gem, which writes the JUnit XML",
  bundle: 'the Gemfile needs rspec and rspec_junit_formatter, which writes the JUnit XML',
};

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
  const files = PRESETS[name].helpers ?? [];
  if (files.length === 0) return;
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(join(dir, f), helperSource(f));
}

// ---- helpers kept as files (src/presets/files), loaded like the Lua scripts ----

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
