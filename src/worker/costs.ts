// Reading a batch's costs file (CMD_ENV.costs): `{ "<file path>": ms }`, written by a preset's reporter,
// the whole cost of each test file as the runner measured it (environment, import, collection, set-up
// and tests), which JUnit's per-test times leave out. Paths map to the batch's ids as JUnit's do
// (src/report/junit-read.ts: relative to the working directory). Like JUnit, the file is the runner's output: a
// missing file is silence, a bad one a warning, and nothing here throws.
import { readFileSync } from 'node:fs';
import { normaliser } from '../report/junit-read.js';
import type { TestResult } from '../types.js';

const MAX_FILE_BYTES = 10 * 1024 * 1024;
/** Above a day, a cost is a unit mistake (seconds for ms, a timestamp), not a measure. */
const MAX_COST_MS = 24 * 3600 * 1000;

export interface CostsReadResult {
  /** Test id -> ms. */
  costs: Map<string, number>;
  warnings: string[];
}

/** The costs a batch's reporter wrote for the batch's ids (none when the file is absent). */
export function readCosts(file: string | undefined, testIds: string[], workingDirectory: string): CostsReadResult {
  const costs = new Map<string, number>();
  if (!file) return { costs, warnings: [] };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { costs, warnings: code === 'ENOENT' ? [] : [`${file}: cannot read the costs file (${code ?? e})`] };
  }
  if (text.length > MAX_FILE_BYTES) return { costs, warnings: [`${file}: costs file larger than 10 MB; ignored`] };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { costs, warnings: [`${file}: costs file is not JSON (${(e as Error).message.slice(0, 200)})`] };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { costs, warnings: [`${file}: costs file is not an object of { "<file>": ms }`] };
  }
  const norm = normaliser(workingDirectory);
  const ids = new Map<string, string[]>();
  for (const id of testIds) ids.set(norm(id), [...(ids.get(norm(id)) ?? []), id]);
  let bad = 0;
  for (const [path, ms] of Object.entries(data)) {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > MAX_COST_MS) {
      bad++;
      continue;
    }
    // Two keys naming one file (an absolute and a relative path) add up, as the runs they measured do.
    for (const id of ids.get(norm(path)) ?? []) costs.set(id, (costs.get(id) ?? 0) + Math.round(ms));
  }
  const warnings = bad > 0 ? [`${file}: ${bad} cost${bad === 1 ? ' is not a' : 's are not'} number of ms from 0 to a day; left out`] : [];
  return { costs, warnings };
}

/** Sets costMs on the results of the ids that have a measured cost. */
export function applyCosts(results: Map<string, TestResult>, costs: Map<string, number>): void {
  for (const [id, r] of results) {
    const ms = costs.get(id);
    if (ms !== undefined) r.costMs = ms;
  }
}
