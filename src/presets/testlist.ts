// Listing the tests of a run from `tests` (ids and globs), `tests-file` and `tests-command`.
import * as exec from '@actions/exec';
import * as glob from '@actions/glob';
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { INPUT } from '../names.js';
import { InputError } from '../errors.js';
import { withoutInputs } from '../env.js';
import { discoverTests } from './discovery/index.js';
import type { RunnerName } from './types.js';

const GLOB_CHARS = /[*?[{]/;
/** Output a command wrote before it exited is read by then; this only bounds a wait for stragglers. */
const READ_AFTER_EXIT_MS = 500;

export interface TestSources {
  tests: string;
  testsFile: string;
  testsCommand: string;
  workingDirectory: string;
  /** Lists the tests, by the runner itself, when the three inputs above are empty. */
  runner?: RunnerName;
  /** The user's arguments for the runner, given to its listing too. */
  runnerArgs?: string[];
}

/** The `tests` input is YAML text: trim it. Files and command output keep ids exactly (spaces included). */
function lines(text: string, trim: boolean): string[] {
  return text.split(/\r?\n/).map((l) => (trim ? l.trim() : l)).filter((l) => l.trim() !== '');
}

async function expandGlob(pattern: string, cwd: string): Promise<string[]> {
  const globber = await glob.create(isAbsolute(pattern) ? pattern : join(cwd, pattern), {
    matchDirectories: false, implicitDescendants: false,
  });
  const files = await globber.glob();
  return files.map((f) => relative(cwd, f).split(sep).join('/')).sort();
}

/**
 * A command's stdout. @actions/exec reads it until the command exits, then at most READ_AFTER_EXIT_MS
 * longer: a background process the command leaves holding its stdout does not delay the run (Node's
 * 'close' would wait for it).
 */
async function runCommand(command: string, cwd: string, what = `Input '${INPUT.testsCommand}'`): Promise<string> {
  let res: exec.ExecOutput;
  try {
    res = await exec.getExecOutput('bash', ['-c', command], {
      // Like a batch's command, without the inputs and Redis URL variables that may hold the password.
      cwd, env: withoutInputs(process.env) as Record<string, string>, silent: true, ignoreReturnCode: true, delay: READ_AFTER_EXIT_MS,
      listeners: { stderr: (d: Buffer) => process.stderr.write(d) },
    });
  } catch (e) {
    throw new InputError(`${what} could not start: ${(e as Error).message}`);
  }
  if (res.exitCode !== 0) throw new InputError(`${what} exited with code ${res.exitCode}`);
  return res.stdout;
}

/** Test ids in order of first appearance, duplicates dropped. Throws when the list is empty. */
export async function listTests(src: TestSources): Promise<string[]> {
  const cwd = resolve(src.workingDirectory);
  const ids: string[] = [];
  for (const line of lines(src.tests, true)) {
    if (GLOB_CHARS.test(line)) {
      const files = await expandGlob(line, cwd);
      if (files.length === 0) console.log(`::warning::Input '${INPUT.tests}': the glob '${line}' matched no file in ${cwd}`);
      ids.push(...files);
    } else {
      ids.push(line);
    }
  }
  if (src.testsFile) {
    let text: string;
    try {
      text = readFileSync(resolve(cwd, src.testsFile), 'utf8');
    } catch (e) {
      throw new InputError(`Input '${INPUT.testsFile}': cannot read '${src.testsFile}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    ids.push(...lines(text, false));
  }
  if (src.testsCommand) ids.push(...lines(await runCommand(src.testsCommand, cwd), false));
  if (!src.tests.trim() && !src.testsFile && !src.testsCommand && src.runner && src.runner !== 'custom') {
    ids.push(...(await discoverTests(src.runner, cwd, src.runnerArgs)));
  }
  const unique = [...new Set(ids)];
  if (unique.length === 0) {
    throw new InputError(`Input '${INPUT.tests}' (with '${INPUT.testsFile}' and '${INPUT.testsCommand}') gives no tests to run`);
  }
  return unique;
}
