// rspec lists the examples of its own configuration (.rspec, --pattern, --exclude-pattern, filters):
// --dry-run with its JSON formatter, written to a file (the user's formatters may print to stdout).
import { join } from 'node:path';
import { bundler } from '../runners/rspec.js';
import { fileIds, readListingJson, runListing, withTempDir } from './run.js';

export function discoverRspec(cwd: string, args: string[]): Promise<string[]> {
  return withTempDir(async (dir) => {
    const file = join(dir, 'list.json');
    const rspec = ['rspec', '--dry-run', '--format', 'json', '--out', file, ...args];
    // With a Gemfile, the bundle's rspec, as in batches.
    const [program, ...rest] = bundler(cwd) ? ['bundle', 'exec', ...rspec] : rspec;
    const out = await runListing({ runner: 'rspec', program, args: rest, cwd });
    const report = readListingJson('rspec', file, out) as { examples?: { file_path: string }[] };
    return fileIds(cwd, (report.examples ?? []).map((e) => e.file_path)); // './spec/a_spec.rb'
  });
}
