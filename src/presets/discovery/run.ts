// Runs a runner's listing command (controller): in the user's working directory, its output read and
// never echoed, and its own error shown, with the runner named, when it cannot list.
import { getExecOutput } from '@actions/exec';
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { withoutAnsi } from '../../report/format.js';
import { withoutInputs } from '../../env.js';

const TAIL_LINES = 30;

/** The runner could not list its tests: its name, the command, and its own words. */
export class DiscoveryError extends Error {}

/** The last lines of a command's output, without colours: what a person needs to see why it failed. */
export function outputTail(text: string, lines = TAIL_LINES): string {
  return withoutAnsi(text).trimEnd().split(/\r?\n/).slice(-lines).join('\n');
}

export interface Listing {
  runner: string;
  program: string;
  args: string[];
  cwd: string;
  /** Added to the environment (a result file's path, say). */
  env?: Record<string, string>;
}

/** Runs the listing and returns its stdout; throws a DiscoveryError with the runner's stderr (or stdout) tail. */
export async function runListing(l: Listing): Promise<{ stdout: string; stderr: string }> {
  const shown = [l.program, ...l.args].join(' ');
  let out;
  try {
    out = await getExecOutput(l.program, l.args, {
      cwd: l.cwd, silent: true, ignoreReturnCode: true,
      // The user's configuration runs here: the action's INPUT_* (the Redis URL) stay out of its reach.
      env: { ...withoutInputs(process.env), ...l.env } as Record<string, string>,
    });
  } catch (e) {
    throw new DiscoveryError(`runner '${l.runner}' could not list the tests: ${shown} did not start (${(e as Error).message})`);
  }
  if (out.exitCode !== 0) {
    const words = outputTail(out.stderr) || outputTail(out.stdout) || '(no output)';
    throw new DiscoveryError(`runner '${l.runner}' could not list the tests: ${shown} exited with code ${out.exitCode}:\n${words}`);
  }
  return out;
}

/** Runs `use` with a fresh temporary folder (for a listing's result file), removed afterwards. */
export async function withTempDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(process.env.RUNNER_TEMP || tmpdir(), 'shardless-list-'));
  try {
    return await use(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads the JSON a listing wrote to `file`, naming the runner when it is missing or not JSON. */
export function readListingJson(runner: string, file: string, output: { stdout: string; stderr: string }): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const words = outputTail(`${output.stdout}\n${output.stderr}`) || '(no output)';
    throw new DiscoveryError(`runner '${runner}' listed no readable result (${(e as Error).message}):\n${words}`);
  }
}

/**
 * Runs a listing script of ours (`name`: its file name, .cjs or .mjs) with the user's node in `cwd`,
 * where it finds the user's runner; the script writes the files as a JSON array to $SHARDLESS_LIST.
 */
export function listByScript(runner: string, name: string, script: string, cwd: string, args: string[]): Promise<string[]> {
  return withTempDir(async (dir) => {
    const path = join(dir, name);
    const file = join(dir, 'list.json');
    writeFileSync(path, script);
    const out = await runListing({ runner, program: 'node', args: [path, ...args], cwd, env: { SHARDLESS_LIST: file } });
    return fileIds(cwd, readListingJson(runner, file, out) as string[]);
  });
}

/**
 * Test ids from the files a runner listed (absolute, or relative to `from`, default cwd): relative to
 * cwd, '/'-separated, deduplicated and sorted.
 */
export function fileIds(cwd: string, files: string[], from = cwd): string[] {
  const root = resolve(cwd);
  let real: string | undefined;
  const ids = files.map((f) => {
    const abs = isAbsolute(f) ? f : resolve(from, f);
    let rel = relative(root, abs);
    if (rel.startsWith('..')) {
      // The runner may report real paths of a symlinked working directory.
      real ??= realpathSync(root);
      const viaReal = relative(real, abs);
      if (!viaReal.startsWith('..')) rel = viaReal;
    }
    return rel.split(sep).join('/');
  });
  return sortedUnique(ids);
}

export function sortedUnique(ids: string[]): string[] {
  return [...new Set(ids.filter((id) => id !== ''))].sort();
}
