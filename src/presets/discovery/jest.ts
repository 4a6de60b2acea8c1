// jest lists the files of its own configuration (roots, testMatch, testRegex, projects): --listTests.
import { join } from 'node:path';
import { fileIds, readListingJson, runListing, withTempDir } from './run.js';

export function discoverJest(cwd: string, args: string[]): Promise<string[]> {
  return withTempDir(async (dir) => {
    const file = join(dir, 'list.json');
    const out = await runListing({ runner: 'jest', program: 'npx', args: ['--no', '--', 'jest', '--listTests', '--json', `--outputFile=${file}`, ...args], cwd });
    return fileIds(cwd, readListingJson('jest', file, out) as string[]); // absolute paths
  });
}
