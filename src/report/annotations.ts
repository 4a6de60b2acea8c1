// GitHub annotations for the tests that failed or were lost: one `error` per failed test (pointing at the
// failure's file and line when JUnit said where it is), one `warning` per lost test. GitHub shows only
// about ten annotations of a step, so the list is capped (failed first) and a notice says what was left out.
import * as core from '@actions/core';
import { statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ANSI, CONTROL, lastRun, oneLine } from './format.js';
import type { HistoryEntry, Report, RunData } from '../types.js';

export interface Annotation {
  level: 'error' | 'warning';
  message: string;
  title: string;
  /** Relative to the repository root (GITHUB_WORKSPACE), with `/` separators. */
  file?: string;
  startLine?: number;
}

export interface AnnotationOptions {
  /** Most annotations returned (default 10). */
  max?: number;
  /** Where the tests ran (the `working-directory` input); relative paths are taken from the workspace. */
  workingDirectory?: string;
  /** The repository root; default GITHUB_WORKSPACE, else the current directory. */
  workspace?: string;
}

export const DEFAULT_MAX_ANNOTATIONS = 10;
/** Lines of a failure message kept in its annotation. */
const MESSAGE_LINES = 20;
/** Bytes of a message, well under what the runner accepts for one annotation (its escaping adds some). */
const MESSAGE_BYTES = 3_500;
const TITLE_CHARS = 200;

type ReportTest = Report['tests'][number];

/** Writes the annotations through @actions/core, then a notice when some were left out. */
export function emitAnnotations(report: Report, data: RunData, opts: AnnotationOptions = {}): void {
  const { list, omitted } = annotations(report, data, opts);
  for (const a of list) {
    const props: core.AnnotationProperties = { title: a.title };
    if (a.file) props.file = a.file;
    if (a.file && a.startLine !== undefined) props.startLine = a.startLine;
    if (a.level === 'error') core.error(a.message, props);
    else core.warning(a.message, props);
  }
  const n = omitted.failed + omitted.lost;
  if (n === 0) return;
  const parts = [
    omitted.failed > 0 ? `${omitted.failed} failed` : '',
    omitted.lost > 0 ? `${omitted.lost} lost` : '',
  ].filter(Boolean);
  core.notice(
    `shardless: ${parts.join(' and ')} ${n === 1 ? 'test is' : 'tests are'} not annotated here ` +
      `(GitHub shows only about ${DEFAULT_MAX_ANNOTATIONS} annotations per step); the job summary and the report list them all`,
    { title: `shardless: ${n} more ${n === 1 ? 'annotation' : 'annotations'} left out` },
  );
}

/** The annotations of a run, failed tests before lost ones, at most `max`; `omitted` says how many more there were. */
export function annotations(report: Report, data: RunData, opts: AnnotationOptions = {}): { list: Annotation[]; omitted: { failed: number; lost: number } } {
  const max = Math.max(0, Math.floor(opts.max ?? DEFAULT_MAX_ANNOTATIONS));
  const workspace = resolve(opts.workspace ?? (process.env.GITHUB_WORKSPACE || process.cwd()));
  const workdir = resolve(workspace, opts.workingDirectory ?? process.cwd());
  const place = placer(workspace, workdir);
  const failed = report.tests.filter((t) => t.status === 'failed');
  const lost = report.tests.filter((t) => t.status === 'lost');
  const shownFailed = failed.slice(0, max);
  const shownLost = lost.slice(0, max - shownFailed.length);
  const failures = shownFailed.length > 0 ? lastFailures(data.history) : new Map<string, HistoryEntry>();
  const list = [
    ...shownFailed.map((t) => failedAnnotation(t, failures.get(t.id), place)),
    ...shownLost.map((t) => lostAnnotation(t, place)),
  ];
  return { list, omitted: { failed: failed.length - shownFailed.length, lost: lost.length - shownLost.length } };
}

function failedAnnotation(t: ReportTest, h: HistoryEntry | undefined, place: Placer): Annotation {
  const message = h?.m ?? lastRun(t, 'failed')?.message;
  const text = firstLines(message ?? '');
  const runs = t.runs.length;
  const a: Annotation = {
    level: 'error',
    message: text || `failed without a message (${runs} ${runs === 1 ? 'run' : 'runs'})`,
    title: `shardless: ${titleId(t.id)} failed`,
  };
  const where = place(h?.f, h?.l, t.id);
  if (where.file) a.file = where.file;
  if (where.file && where.line !== undefined) a.startLine = where.line;
  return a;
}

function lostAnnotation(t: ReportTest, place: Placer): Annotation {
  const n = t.runs.filter((r) => r.outcome === 'lost' || r.outcome === 'timeout').length;
  const runs = t.runs.map((r) => `${r.outcome} on worker ${oneLine(r.worker)}`).join(', ');
  const a: Annotation = {
    level: 'warning',
    message: cutBytes(`lost after ${n} ${n === 1 ? 'run' : 'runs'} without a result${runs ? `\nruns: ${runs}` : ''}`, MESSAGE_BYTES),
    title: `shardless: ${titleId(t.id)} lost`,
  };
  const where = place(undefined, undefined, t.id);
  if (where.file) a.file = where.file;
  return a;
}

/** Each test's last failed run, in the report's run order (recording time, ties in array order). */
function lastFailures(history: HistoryEntry[]): Map<string, HistoryEntry> {
  const out = new Map<string, HistoryEntry>();
  for (const h of history) {
    if (h.o !== 'failed') continue;
    const prev = out.get(h.t);
    if (!prev || h.e >= prev.e) out.set(h.t, h);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Where a failure is

type Placer = (file: string | undefined, line: number | undefined, id: string) => { file?: string; line?: number };

/**
 * JUnit files are relative to the working directory (the worker made absolute ones so); annotations
 * want them relative to the repository root. Without a file, a test id naming an existing file is used.
 */
function placer(workspace: string, workdir: string): Placer {
  const fromRoot = (p: string): string | undefined => {
    const rel = relative(workspace, resolve(workdir, p));
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined; // outside the repository
    return rel.split(sep).join('/');
  };
  const existing = new Map<string, string | undefined>();
  const idFile = (id: string): string | undefined => {
    if (existing.has(id)) return existing.get(id);
    let found: string | undefined;
    // `path/to/test_x.py::test_y` (pytest) names its file before `::`.
    for (const candidate of new Set([id, id.split('::')[0]])) {
      if (!looksLikePath(candidate)) continue;
      try {
        if (statSync(resolve(workdir, candidate)).isFile()) {
          found = fromRoot(candidate);
          break;
        }
      } catch {
        // not a file
      }
    }
    existing.set(id, found);
    return found;
  };
  return (file, line, id) => {
    const f = file && file.trim() && !/[\r\n\0]/.test(file) ? fromRoot(file.trim()) : idFile(id);
    const l = Number.isInteger(line) && (line as number) > 0 ? line : undefined;
    return f ? { file: f, line: l } : {};
  };
}

function looksLikePath(s: string): boolean {
  return s.length > 0 && s.length < 4096 && s.trim() === s && !/[\0\r\n*?]/.test(s);
}

// ---------------------------------------------------------------------------------------------------
// Text

/** The first lines of a failure message, without colours or blank edges, under MESSAGE_BYTES. */
function firstLines(message: string): string {
  const lines = message.replace(ANSI, '').replace(/\r\n?/g, '\n').replace(CONTROL, '').split('\n');
  while (lines.length > 0 && lines[0].trim() === '') lines.shift();
  const kept = lines.slice(0, MESSAGE_LINES);
  while (kept.length > 0 && kept.at(-1)!.trim() === '') kept.pop();
  let text = kept.map((l) => l.trimEnd()).join('\n');
  const more = lines.slice(MESSAGE_LINES).some((l) => l.trim() !== '');
  if (more) text += '\n…';
  return cutBytes(text, MESSAGE_BYTES);
}

/** Cuts at a character boundary so that the UTF-8 encoding fits in `max` bytes. */
function cutBytes(s: string, max: number): string {
  if (Buffer.byteLength(s, 'utf8') <= max) return s;
  const mark = '\n… (cut)';
  let out = Buffer.from(s, 'utf8').subarray(0, max - Buffer.byteLength(mark)).toString('utf8');
  // A cut inside a multi-byte character decodes to U+FFFD at the end: drop it.
  out = out.replace(/\uFFFD+$/, '');
  return out + mark;
}

function titleId(id: string): string {
  const chars = Array.from(oneLine(id).replace(CONTROL, '')); // code points: never half a surrogate pair
  return chars.length > TITLE_CHARS ? `${chars.slice(0, TITLE_CHARS - 1).join('')}…` : chars.join('');
}
