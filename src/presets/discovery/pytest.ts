// pytest lists what it collects under its own configuration (python_files, testpaths, addopts,
// conftest.py): --collect-only. Its ids are relative to --rootdir, the working directory as in batches.
import { fileIds, runListing } from './run.js';

/** The files of pytest's collection output: `file: count` lines (-qq) or node ids `file::name` (-q). */
export function pytestFiles(stdout: string): string[] {
  const files: string[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    if (line.trim() === '') break; // the summary follows the first blank line
    const m = /^(.+?)::/.exec(line) ?? /^(.+): \d+$/.exec(line);
    if (m) files.push(m[1]);
  }
  return files;
}

export async function discoverPytest(cwd: string, args: string[]): Promise<string[]> {
  // -qq prints a line per file; with a -v in the user's addopts it prints node ids instead. No cache
  // written by a listing.
  const out = await runListing({ runner: 'pytest', program: 'python3', args: ['-m', 'pytest', '--collect-only', '-qq', '--rootdir=.', '-p', 'no:cacheprovider', ...args], cwd });
  return fileIds(cwd, pytestFiles(out.stdout));
}
