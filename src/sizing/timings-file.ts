// Timings kept in files, so that they outlive Redis (actions/cache, an artifact): `timings-output` writes
// the learnt costs of a run as JSON, `timings-file` reads that JSON or the JUnit XML of an earlier run.
//
//   {"version": 1, "startMs": 1200 | null, "measured": 0.95, "costs": {"<test id>": <ms>, ...}}
// (measured: Timings.measured, left out when unknown.)
import * as core from '@actions/core';
import * as glob from '@actions/glob';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { readJUnitFiles } from '../report/junit-read.js';
import { INPUT } from '../names.js';
import type { Timings } from './costmodel.js';

export const TIMINGS_FILE_VERSION = 1;

/** The JSON of a timings file: the costs of `ids` (those known), in ms. */
export function timingsJson(t: Timings, ids: Iterable<string>): string {
  const costs: Record<string, number> = {};
  for (const id of ids) {
    const c = t.costs.get(id);
    if (c !== undefined && Number.isFinite(c)) costs[id] = Math.max(0, Math.round(c));
  }
  const startMs = t.startMs === null ? null : Math.round(t.startMs);
  const measured = t.measured === undefined ? {} : { measured: t.measured };
  return `${JSON.stringify({ version: TIMINGS_FILE_VERSION, startMs, ...measured, costs })}\n`;
}

/** Writes the timings file (its folder made if needed); an error names `timings-output`. */
export function writeTimingsFile(path: string, t: Timings, ids: Iterable<string>): void {
  try {
    mkdirSync(dirname(resolve(path)), { recursive: true });
    writeFileSync(path, timingsJson(t, ids));
  } catch (e) {
    throw new Error(`Input '${INPUT.timingsOutput}': cannot write '${path}' (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** A timings file's JSON, checked: the costs it gives, or why it gives none. */
export function parseTimingsJson(text: string): Timings | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return `not valid JSON (${(e as Error).message})`;
  }
  const d = doc as { version?: unknown; startMs?: unknown; measured?: unknown; costs?: unknown };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'not a JSON object';
  if (d.version !== TIMINGS_FILE_VERSION) return `version ${JSON.stringify(d.version)} is not ${TIMINGS_FILE_VERSION}`;
  if (typeof d.costs !== 'object' || d.costs === null || Array.isArray(d.costs)) return '"costs" is not an object of test ids and milliseconds';
  const costs = new Map<string, number>();
  for (const [id, ms] of Object.entries(d.costs)) if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0) costs.set(id, ms);
  const startMs = typeof d.startMs === 'number' && Number.isFinite(d.startMs) && d.startMs >= 0 ? d.startMs : null;
  const t: Timings = { costs, startMs };
  if (typeof d.measured === 'number' && d.measured >= 0 && d.measured <= 1) t.measured = d.measured;
  return t;
}

/** JSON by its extension, JUnit by .xml, else by its first character. */
function isJson(file: string): boolean {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return true;
  if (ext === '.xml') return false;
  try {
    return /^\s*\{/.test(readFileSync(file, 'utf8').slice(0, 1024));
  } catch {
    return false; // the JUnit reader says why it cannot read it
  }
}

/**
 * Costs of tests not known yet (and the start cost, when unknown), from the files `pattern` matches:
 * timings JSON (timings-output of an earlier run) or JUnit XML. A file that cannot be used is a warning
 * naming it: timings only order and balance the tests, so the run goes on without them.
 */
export async function timingsFromFiles(t: Timings, pattern: string, ids: string[], cwd: string): Promise<Timings> {
  const globber = await glob.create(isAbsolute(pattern) ? pattern : join(cwd, pattern), { matchDirectories: false });
  const files = (await globber.glob()).sort();
  if (files.length === 0) {
    core.warning(`Input '${INPUT.timingsFile}': '${pattern}' matched no file`);
    return t;
  }
  const costs = new Map(t.costs);
  let startMs = t.startMs;
  let measured = t.measured;
  const wanted = new Set(ids);
  const junit: string[] = [];
  for (const file of files) {
    if (!isJson(file)) {
      junit.push(file);
      continue;
    }
    let parsed: ReturnType<typeof parseTimingsJson>;
    try {
      parsed = parseTimingsJson(readFileSync(file, 'utf8'));
    } catch (e) {
      parsed = `cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    }
    if (typeof parsed === 'string') {
      core.warning(`Input '${INPUT.timingsFile}': ${file} is not a shardless timings file: ${parsed}; ignored`);
      continue;
    }
    for (const [id, ms] of parsed.costs) if (wanted.has(id) && !costs.has(id)) costs.set(id, ms);
    startMs ??= parsed.startMs;
    measured ??= parsed.measured;
  }
  if (junit.length > 0) {
    const { results, warnings } = readJUnitFiles(junit, ids, cwd);
    for (const w of warnings) core.warning(w);
    for (const [id, r] of results) if (!costs.has(id)) costs.set(id, r.durationMs);
  }
  return { ...t, costs, startMs, ...(measured === undefined ? {} : { measured }) };
}
