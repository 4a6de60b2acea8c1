// playwright lists the tests of its own configuration (testDir, testMatch, projects): --list, with its
// JSON reporter writing to a file (its list reporter still prints to stdout).
import { join } from 'node:path';
import { fileIds, readListingJson, runListing, withTempDir } from './run.js';

interface Report {
  config: { rootDir: string };
  suites?: { file: string }[];
}

export function discoverPlaywright(cwd: string, args: string[]): Promise<string[]> {
  return withTempDir(async (dir) => {
    const file = join(dir, 'list.json');
    const out = await runListing({
      runner: 'playwright', program: 'npx', args: ['--no', '--', 'playwright', 'test', '--list', '--reporter=json', ...args], cwd,
      // The first is the current name, the second the one older versions read.
      env: { PLAYWRIGHT_JSON_OUTPUT_FILE: file, PLAYWRIGHT_JSON_OUTPUT_NAME: file },
    });
    const report = readListingJson('playwright', file, out) as Report;
    // A top-level suite per test file (per project), named relative to the configuration's rootDir.
    return fileIds(cwd, (report.suites ?? []).map((s) => s.file), report.config.rootDir);
  });
}
