// vitest lists the files of its own configuration (include, exclude, projects): `vitest list --filesOnly`.
import { join } from 'node:path';
import { fileIds, readListingJson, runListing, withTempDir } from './run.js';

export function discoverVitest(cwd: string, args: string[]): Promise<string[]> {
  return withTempDir(async (dir) => {
    const file = join(dir, 'list.json');
    const out = await runListing({ runner: 'vitest', program: 'npx', args: ['--no', '--', 'vitest', 'list', '--filesOnly', `--json=${file}`, ...args], cwd });
    // [{ file, projectName? }], a file once per project that runs it.
    const listed = readListingJson('vitest', file, out) as { file: string }[];
    return fileIds(cwd, listed.map((t) => t.file));
  });
}
