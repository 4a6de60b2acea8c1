// Istanbul coverage JSON (jest's coverage-final.json of each batch, README "Reports"): merged into one
// coverage map with istanbul's own libraries, and istanbul's reports of it written. A file that several
// batches touched counts the hits of all of them. The worker merges its own batches' (src/worker), and
// `shardless merge-coverage` the workers' (src/cli, which also writes istanbul's reports of them).
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import libCoverage, { type CoverageMap, type CoverageMapData } from 'istanbul-lib-coverage';
export class MergeCoverageError extends Error {}

/** The .json files under each path (a file is itself), sorted, node_modules left out. */
export function coverageFiles(paths: string[]): string[] {
  const found: string[] = [];
  const walk = (p: string): void => {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new MergeCoverageError(`${p} does not exist`);
    }
    if (st.isFile()) {
      found.push(p);
      return;
    }
    for (const e of readdirSync(p, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const child = join(p, e.name);
      if (e.isDirectory() && e.name !== 'node_modules') walk(child);
      else if (e.isFile() && e.name.endsWith('.json')) found.push(child);
    }
  };
  for (const p of paths) walk(resolve(p));
  return found;
}

/** Merges every file's coverage into one map; a file that is not istanbul coverage JSON is an error naming it. */
export function mergeCoverageFiles(files: string[]): CoverageMap {
  const map = libCoverage.createCoverageMap({});
  for (const f of files) {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(f, 'utf8'));
    } catch (e) {
      throw new MergeCoverageError(`${f} is not JSON: ${(e as Error).message}`);
    }
    const entries = data && typeof data === 'object' && !Array.isArray(data) ? Object.values(data) : null;
    const isCoverage = (v: unknown) => !!v && typeof v === 'object' && 'path' in v && 'statementMap' in v && 's' in v;
    if (!entries || !entries.every(isCoverage)) throw new MergeCoverageError(`${f} is not istanbul coverage JSON (coverage-final.json: { "<file>": { path, statementMap, s, ... } })`);
    map.merge(data as CoverageMapData);
  }
  return map;
}

/** The map as istanbul's json report writes it: dir/coverage-final.json, whose path it returns. */
export function writeCoverageJson(map: CoverageMap, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'coverage-final.json');
  writeFileSync(file, JSON.stringify(map.toJSON()));
  return file;
}
