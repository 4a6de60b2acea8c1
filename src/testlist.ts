// Listing the tests of a run from `tests` (ids and globs), `tests-file` and `tests-command`.
import * as glob from '@actions/glob';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { INPUT } from './names.js';
import { InputError } from './inputs.js';
import { discoverTests } from './discovery/index.js';
import type { RunnerName } from './presets.js';

const GLOB_CHARS = /[*?[{]/;

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

function runCommand(command: string, cwd: string, what = `Input '${INPUT.testsCommand}'`): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', ['-c', command], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.on('error', (e) => reject(new InputError(`${what} could not start: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolvePromise(out);
      else reject(new InputError(`${what} exited with code ${code}`));
    });
  });
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
