// Reading a batch's per-test results from JUnit XML (README, "Results of a batch").
//
// JUnit files are written by arbitrary test tools and may be missing, truncated or hostile, so nothing
// here throws: every problem becomes a warning naming the file, and that file contributes no results.
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { TestResult } from '../types.js';

export interface JUnitReadResult {
  results: Map<string, TestResult>;
  warnings: string[];
}

/** One `<testcase>`, with the attributes that can tie it to a test id (raw, not normalised). */
export interface JUnitCase {
  name: string;
  classname: string;
  file: string;
  line?: number;
  /** Enclosing `<testsuite>`s, outermost first. */
  suites: { name: string; file: string }[];
  outcome: TestResult['outcome'];
  /** The `time` attribute, in seconds. */
  seconds: number;
  /** For a failed case: the first failure/error's message and the start of its text. */
  message: string;
}

const MAX_FILE_BYTES = 50 * 1024 * 1024;
const MAX_SUITE_DEPTH = 200;
const MAX_MESSAGE_CHARS = 2000;
const ARRAY_TAGS = new Set(['testsuites', 'testsuite', 'testcase', 'failure', 'error', 'skipped']);

// Attributes go under '@' (not a legal XML name start) so an attribute can never collide with a child
// element of the same name. Entities stay unprocessed (no DOCTYPE expansion: "billion laughs" is inert);
// the predefined and numeric ones are decoded by `decode` below. maxNestedTags bounds the parser's own
// recursion; it sits above MAX_SUITE_DEPTH so that moderately deep files still yield their shallow cases.
const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '@',
  parseAttributeValue: false,
  parseTagValue: false,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: MAX_SUITE_DEPTH + 56,
  isArray: (tag, _path, _leaf, isAttribute) => !isAttribute && ARRAY_TAGS.has(tag),
});

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
function decode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);/g, (whole, ent: string) => {
    if (ent[0] !== '#') return ENTITIES[ent];
    const code = ent[1] === 'x' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

function attr(node: unknown, key: string): string {
  const attrs = isNode(node) ? node['@'] : undefined;
  const v = isNode(attrs) ? attrs[key] : undefined;
  return typeof v === 'string' ? decode(v).trim() : '';
}

/** Text of an element that the parser gave as '' / 'text' / { '#text', '@' }. */
function text(node: unknown): string {
  if (typeof node === 'string') return decode(node).trim();
  const t = isNode(node) ? node['#text'] : undefined;
  return typeof t === 'string' || typeof t === 'number' ? decode(String(t)).trim() : '';
}

/** Reporters write seconds as '0.5', sometimes '1,234.5'; anything odd counts as 0. */
function seconds(s: string): number {
  const n = Number(s.replace(/,/g, ''));
  return s !== '' && Number.isFinite(n) && n > 0 ? n : 0;
}

function failureMessage(el: unknown): string {
  const message = attr(el, 'message');
  const body = text(el);
  // Many reporters repeat the message as the first line of the text.
  let combined = message && body ? `${message}\n${body}` : message || body;
  if (message && body.startsWith(message)) combined = body;
  return combined.length > MAX_MESSAGE_CHARS ? `${combined.slice(0, MAX_MESSAGE_CHARS - 1)}…` : combined;
}

function toCase(tc: unknown, suites: JUnitCase['suites']): JUnitCase {
  const node = isNode(tc) ? tc : {};
  const bad = [...list(node.failure), ...list(node.error)];
  const skipped = list(node.skipped).length > 0;
  const line = Number(attr(tc, 'line'));
  return {
    name: attr(tc, 'name'),
    classname: attr(tc, 'classname'),
    file: attr(tc, 'file'),
    ...(Number.isInteger(line) && line > 0 ? { line } : {}),
    suites,
    outcome: bad.length > 0 ? 'failed' : skipped ? 'skipped' : 'passed',
    seconds: seconds(attr(tc, 'time')),
    message: bad.length > 0 ? failureMessage(bad[0]) : '',
  };
}

export function parseJUnit(xml: string, fileLabel: string): { cases: JUnitCase[]; warnings: string[] } {
  const cases: JUnitCase[] = [];
  const warnings: string[] = [];
  try {
    const source = xml.replace(/^\uFEFF/, '');
    if (source.trim() === '') return { cases, warnings: [`${fileLabel}: JUnit file is empty`] };
    // The parser is lenient (a truncated file parses to a partial tree): validate first so that a
    // half-written report gives no results rather than wrong ones.
    const valid = XMLValidator.validate(source);
    if (valid !== true) {
      const { msg, line } = valid.err;
      return { cases, warnings: [`${fileLabel}: invalid JUnit XML (${msg}, line ${line})`] };
    }
    let tooDeep = false;
    const walk = (node: unknown, suites: JUnitCase['suites']): void => {
      if (!isNode(node)) return;
      for (const tc of list(node.testcase)) cases.push(toCase(tc, suites));
      for (const group of list(node.testsuites)) walk(group, suites);
      for (const suite of list(node.testsuite)) {
        if (suites.length >= MAX_SUITE_DEPTH) {
          tooDeep = true;
          continue;
        }
        walk(suite, [...suites, { name: attr(suite, 'name'), file: attr(suite, 'file') }]);
      }
    };
    walk(parser.parse(source), []);
    if (tooDeep) warnings.push(`${fileLabel}: testsuites nested deeper than ${MAX_SUITE_DEPTH}; the deeper ones were ignored`);
    if (cases.length === 0) warnings.push(`${fileLabel}: no testcase found in the JUnit file`);
    return { cases, warnings };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { cases: [], warnings: [`${fileLabel}: could not read JUnit XML (${why.slice(0, 200)})`] };
  }
}

/** Normalised form of a path-like string, so that ids and JUnit attributes compare equal. */
export function normaliser(workingDirectory: string): (p: string) => string {
  const base = resolve(workingDirectory);
  const cache = new Map<string, string>();
  return (p) => {
    let out = cache.get(p);
    if (out !== undefined) return out;
    out = p.trim().replace(/\\/g, '/').replace(/\/{2,}/g, '/');
    if (isAbsolute(out)) out = relative(base, out).replace(/\\/g, '/');
    const segments = out.split('/');
    if (segments.length > 1) out = segments.filter((s) => s !== '.').join('/');
    cache.set(p, out);
    return out;
  };
}

/** Read the given JUnit XML files and map their testcases to the batch's test ids. */
export function readJUnitFiles(files: string[], testIds: string[], workingDirectory: string): JUnitReadResult {
  const warnings: string[] = [];
  const norm = normaliser(workingDirectory);
  const idsByKey = new Map<string, string[]>();
  for (const id of testIds) {
    const key = norm(id);
    if (key === '') continue;
    const ids = idsByKey.get(key);
    if (!ids) idsByKey.set(key, [id]);
    else if (!ids.includes(id)) ids.push(id);
  }

  const matched = new Map<string, JUnitCase[]>();
  const seen = new Set<string>();
  for (const file of files) {
    // Relative paths (a `junit` glob) are where the command ran.
    const path = resolve(workingDirectory, file);
    if (seen.has(path)) continue;
    seen.add(path);
    let xml: string;
    try {
      const size = statSync(path).size;
      if (size > MAX_FILE_BYTES) {
        warnings.push(`${file}: JUnit file is larger than 50 MB (${size} bytes); ignored`);
        continue;
      }
      xml = readFileSync(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      warnings.push(code === 'ENOENT' ? `${file}: JUnit file not found` : `${file}: cannot read JUnit file (${code ?? e})`);
      continue;
    }
    const parsed = parseJUnit(xml, file);
    warnings.push(...parsed.warnings);
    for (const c of parsed.cases) {
      const keys = [c.file, c.classname, c.name, ...c.suites.flatMap((s) => [s.name, s.file])];
      const owners = new Set<string>();
      for (const k of keys) if (k !== '') for (const id of idsByKey.get(norm(k)) ?? []) owners.add(id);
      for (const id of owners) {
        const mine = matched.get(id);
        if (mine) mine.push(c);
        else matched.set(id, [c]);
      }
    }
  }

  const results = new Map<string, TestResult>();
  for (const id of testIds) {
    const cases = matched.get(id);
    if (!cases || results.has(id)) continue;
    const failed = cases.find((c) => c.outcome === 'failed');
    const outcome = failed ? 'failed' : cases.every((c) => c.outcome === 'skipped') ? 'skipped' : 'passed';
    const durationMs = Math.round(cases.reduce((sum, c) => sum + c.seconds, 0) * 1000);
    const result: TestResult = { outcome, durationMs, message: failed?.message ?? '' };
    if (failed?.file) result.file = norm(failed.file);
    if (failed?.line !== undefined) result.line = failed.line;
    results.set(id, result);
  }
  return { results, warnings };
}
