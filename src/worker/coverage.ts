// One coverage report per worker: the jest preset's batches each write coverage JSON under
// reports-dir/jest-coverage/<worker>-batch-<batch>-*/ (src/presets); at the end of its run the worker
// merges its own into reports-dir/jest-coverage/<worker>/coverage-final.json and removes the batches'
// files, which that file now holds. The batches' files are removed only after it is written, so a
// worker killed half-way leaves coverage that the final merge (shardless merge-coverage) still reads.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { coverageFiles, mergeCoverageFiles, writeCoverageJson } from '../report/coverage.js';
import { REPORT_KINDS } from '../presets/index.js';
import { reportNameOf } from './batch-files.js';

/** Merges this worker's batches' coverage into one file; null when no batch wrote coverage. */
export function mergeWorkerCoverage(reportsDir: string, workerId: string): { batches: number; file: string } | null {
  const dir = join(reportsDir, REPORT_KINDS.jest);
  const own = reportNameOf(workerId);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return null; // no batch wrote coverage (coverage off)
  }
  const batches = names.filter((n) => n.startsWith(`${own}-batch-`)).map((n) => join(dir, n));
  if (batches.length === 0) return null;
  const mine = join(dir, own);
  // A rejoined worker (a second run of this job) merges into what its first run left.
  const earlier = names.includes(own) ? [mine] : [];
  const map = mergeCoverageFiles(coverageFiles([...earlier, ...batches]));
  const file = writeCoverageJson(map, mine);
  for (const b of batches) rmSync(b, { recursive: true, force: true });
  return { batches: batches.length, file };
}
