// The controller's view of a finished (or aborted) run: the JSON report, the job summary, the merged
// JUnit and the outputs. Everything here is pure except `writeReport` at the end.

import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OUTPUT } from '../names.js';
import type { BatchRecord, HistoryEntry, Report, RunData, TestStatus } from '../types.js';

type ReportTest = Report['tests'][number];
type ReportRun = ReportTest['runs'][number];

// ---------------------------------------------------------------------------------------------------
// JSON report

export function buildReport(data: RunData): Report {
  const runsByTest = groupRuns(data.history);
  const tests = data.tests.map(({ id, status }): ReportTest => {
    const runs = runsByTest.get(id) ?? [];
    return { id, status: status ?? 'not-run', durationMs: testDuration(runs), runs };
  });
  const counts = countStatuses(tests);
  return {
    version: 1,
    queue: data.queue,
    run: data.run,
    status: reportStatus(data, counts),
    durationMs: Math.max(0, (data.completedAtMs ?? data.nowMs) - data.seededAtMs),
    counts,
    tests,
    workers: data.workers.map((w) => ({
      id: w.id,
      batches: w.batches,
      tests: w.tests,
      busyMs: w.busyMs,
      lostBatches: w.lostBatches,
      state: w.state === 'dead' || w.state === 'cancelled' ? w.state : 'finished',
    })),
  };
}

function groupRuns(history: HistoryEntry[]): Map<string, ReportRun[]> {
  // sort() is stable, so entries recorded in the same millisecond keep their array order.
  const sorted = [...history].sort((a, b) => a.e - b.e);
  const byTest = new Map<string, ReportRun[]>();
  for (const h of sorted) {
    // A run without a result has no runner time: show how long its batch ran until it was given up.
    const noResult = h.o === 'lost' || h.o === 'timeout' || h.o === 'split';
    const durationMs = noResult && !h.d ? Math.max(0, h.e - h.s) : h.d;
    const run: ReportRun = { worker: h.w, batch: h.b, isolated: h.i, outcome: h.o, durationMs, message: h.m };
    const list = byTest.get(h.t);
    if (list) list.push(run);
    else byTest.set(h.t, [run]);
  }
  return byTest;
}

/** Duration of the last run that produced a result: lost runs say nothing about the test itself. */
function testDuration(runs: ReportRun[]): number {
  for (let i = runs.length - 1; i >= 0; i--) {
    const o = runs[i].outcome;
    if (o === 'passed' || o === 'failed' || o === 'skipped') return runs[i].durationMs;
  }
  return 0;
}

function countStatuses(tests: ReportTest[]): Report['counts'] {
  const counts = { total: tests.length, passed: 0, failed: 0, flaky: 0, lost: 0, skipped: 0, notRun: 0 };
  const key: Record<TestStatus, Exclude<keyof typeof counts, 'total'>> = {
    passed: 'passed',
    failed: 'failed',
    flaky: 'flaky',
    lost: 'lost',
    skipped: 'skipped',
    'not-run': 'notRun',
  };
  for (const t of tests) counts[key[t.status]]++;
  return counts;
}

function reportStatus(data: RunData, counts: Report['counts']): Report['status'] {
  if (data.state !== 'complete' || counts.notRun > 0) return 'incomplete';
  return counts.failed > 0 || counts.lost > 0 ? 'failed' : 'passed';
}

// ---------------------------------------------------------------------------------------------------
// Outputs and exit status

export function reportOutputs(report: Report, reportPath: string, junitPath: string): Record<string, string> {
  const c = report.counts;
  const ids = (status: TestStatus) =>
    report.tests
      .filter((t) => t.status === status)
      .map((t) => t.id)
      .join('\n');
  return {
    [OUTPUT.total]: String(c.total),
    [OUTPUT.passed]: String(c.passed),
    [OUTPUT.failed]: String(c.failed),
    [OUTPUT.flaky]: String(c.flaky),
    [OUTPUT.lost]: String(c.lost),
    [OUTPUT.skipped]: String(c.skipped),
    [OUTPUT.notRun]: String(c.notRun),
    [OUTPUT.failedTests]: ids('failed'),
    [OUTPUT.flakyTests]: ids('flaky'),
    [OUTPUT.lostTests]: ids('lost'),
    [OUTPUT.report]: reportPath,
    [OUTPUT.junit]: junitPath,
  };
}

const REASON_IDS = 5;

/** null when the controller should exit 0; otherwise the one-line reason it exits 1. */
export function exitReason(report: Report, data: RunData, failOnFlaky: boolean): string | null {
  const c = report.counts;
  const flakyFails = failOnFlaky && c.flaky > 0;
  if (report.status === 'passed' && !flakyFails) return null;

  const parts: string[] = [];
  if (data.state === 'aborted') parts.push(`run aborted: ${oneLine(data.abortReason) || 'no reason given'}`);
  else if (data.state !== 'complete') parts.push(`run did not complete (state ${data.state})`);
  if (c.failed > 0 || c.lost > 0) {
    const what =
      c.failed > 0 && c.lost > 0
        ? `${tests(c.failed)} failed, ${c.lost} lost`
        : c.failed > 0
          ? `${tests(c.failed)} failed`
          : `${tests(c.lost)} lost`;
    parts.push(`${what}: ${idList(report, (s) => s === 'failed' || s === 'lost')}`);
  }
  if (c.notRun > 0) parts.push(`${tests(c.notRun)} not run`);
  if (flakyFails) parts.push(`${tests(c.flaky)} flaky (fail-on-flaky): ${idList(report, (s) => s === 'flaky')}`);
  return parts.join('; ');
}

function tests(n: number): string {
  return `${n} ${n === 1 ? 'test' : 'tests'}`;
}

function idList(report: Report, pick: (s: TestStatus) => boolean): string {
  const ids = report.tests.filter((t) => pick(t.status)).map((t) => oneLine(t.id));
  const shown = ids.slice(0, REASON_IDS).join(', ');
  return ids.length > REASON_IDS ? `${shown}, … (${ids.length - REASON_IDS} more)` : shown;
}

// ---------------------------------------------------------------------------------------------------
// Job summary (GitHub markdown)

/** A summary section whose items may be cut to keep the summary under its size limit. */
interface Block {
  head: string; // always kept: title, table header, opening fence
  items: string[]; // each ends with '\n'
  tail: string; // always kept: closing fence
  what: string; // names the items in the truncation note
  hidden: number; // items already left out by a count cap
}

const NOT_RUN_CAP = 100;
const SLOWEST = 10;
const MAX_BARS = 300;
const MAX_MESSAGE = 20_000;
const MAX_FIRST_LINE = 200;
const DROPPED_NOTE_ROOM = 200;

export function renderSummary(report: Report, data: RunData, opts: { maxBytes?: number } = {}): string {
  const maxBytes = opts.maxBytes ?? 1_000_000;
  const top = summaryHeader(report, data);
  const blocks = [
    failedBlock(report),
    lostBlock(report),
    flakyBlock(report),
    notRunBlock(report),
    workersBlock(report),
    slowestBlock(report),
    ganttBlock(data, report.durationMs),
  ].filter((b) => b.items.length + b.hidden > 0);
  const needs = blocks.map(blockSize);
  const allot = share(needs, maxBytes - bytes(top) - DROPPED_NOTE_ROOM);
  const rendered = blocks.map((b, i) => renderBlock(b, allot[i]));
  const dropped = blocks.filter((_, i) => rendered[i] === '').map((b) => b.what);
  const note = dropped.length > 0 ? `\n_Left out to fit the summary size limit: ${dropped.join(', ')}._\n` : '';
  return clampBytes(top + rendered.join('') + note, maxBytes);
}

const STATUS_LABEL: Record<Report['status'], string> = {
  passed: '✅ passed',
  failed: '❌ failed',
  incomplete: '⚠️ incomplete',
};

function summaryHeader(report: Report, data: RunData): string {
  const c = report.counts;
  let s = `## shardless: ${mdText(report.queue)} ${mdText(report.run)} — ${STATUS_LABEL[report.status]}\n\n`;
  s += '| total | passed | failed | flaky | lost | skipped | not run |\n';
  s += '|---:|---:|---:|---:|---:|---:|---:|\n';
  s += `| ${c.total} | ${c.passed} | ${c.failed} | ${c.flaky} | ${c.lost} | ${c.skipped} | ${c.notRun} |\n\n`;
  s += `**Wall time:** ${fmtMs(report.durationMs)} · **Workers:** ${report.workers.length}\n`;
  if (data.state === 'aborted') s += `\n> **Run aborted:** ${mdText(data.abortReason) || 'no reason given'}\n`;
  return s;
}

function failedBlock(report: Report): Block {
  const items = report.tests
    .filter((t) => t.status === 'failed')
    .map((t) => {
      const message = lastRun(t, 'failed')?.message ?? '';
      const runs = t.runs.length > 1 ? ` (${t.runs.length} runs: ${t.runs.map((r) => r.outcome).join(' → ')})` : '';
      const list = t.runs
        .map((r, i) => `${i + 1}. ${r.outcome}, worker ${html(r.worker)}, batch ${html(r.batch)}${r.isolated ? ', isolated' : ''}, ${fmtMs(r.durationMs)}`)
        .join('\n');
      // An HTML block: its content is not parsed as markdown, so HTML escaping is all it needs.
      return (
        `<details><summary><code>${html(t.id)}</code> — ${html(firstLine(message))}${html(runs)}</summary>\n\n` +
        `<pre>\n${html(cap(message, MAX_MESSAGE))}\n</pre>\n\n${t.runs.length > 1 ? `<pre>\n${list}\n</pre>\n\n` : ''}</details>\n\n`
      );
    });
  return { head: '\n### Failed tests\n\n', items, tail: '', what: 'failed tests', hidden: 0 };
}

function lostBlock(report: Report): Block {
  const items = report.tests
    .filter((t) => t.status === 'lost')
    .map((t) => {
      const runs = t.runs.map(
        (r, i) =>
          `  ${i + 1}. ${r.outcome} — worker ${mdCode(r.worker)}, batch ${mdCode(r.batch)}, ` +
          `${r.isolated ? 'isolated' : 'not isolated'}, ${fmtMs(r.durationMs)}\n`,
      );
      return `- ${mdCode(t.id)} — ${t.runs.length} ${t.runs.length === 1 ? 'run' : 'runs'}\n${runs.join('')}`;
    });
  return { head: '\n### Lost tests\n\n', items, tail: '', what: 'lost tests', hidden: 0 };
}

function flakyBlock(report: Report): Block {
  const items = report.tests
    .filter((t) => t.status === 'flaky')
    .map((t) => {
      const failure = firstLine(lastRun(t, 'failed')?.message ?? '');
      const outcomes = t.runs.map((r) => r.outcome).join(' → ');
      return `- ${mdCode(t.id)} — ${outcomes}${failure ? `: ${mdText(failure)}` : ''}\n`;
    });
  return { head: '\n### Flaky tests\n\n', items, tail: '', what: 'flaky tests', hidden: 0 };
}

function notRunBlock(report: Report): Block {
  const ids = report.tests.filter((t) => t.status === 'not-run').map((t) => `- ${mdCode(t.id)}\n`);
  return {
    head: '\n### Not run\n\n',
    items: ids.slice(0, NOT_RUN_CAP),
    tail: '',
    what: 'not-run tests',
    hidden: Math.max(0, ids.length - NOT_RUN_CAP),
  };
}

function workersBlock(report: Report): Block {
  const wall = report.durationMs;
  const items = report.workers.map(
    (w) =>
      `| ${mdCode(w.id, true)} | ${w.state} | ${w.batches} | ${w.tests} | ${fmtMs(w.busyMs)} | ` +
      `${wall > 0 ? `${Math.round((w.busyMs / wall) * 100)}%` : '—'} | ${w.lostBatches} |\n`,
  );
  return {
    head:
      '\n### Workers\n\n| worker | state | batches | tests | busy | utilisation | lost batches |\n' +
      '|---|---|---:|---:|---:|---:|---:|\n',
    items,
    tail: '',
    what: 'workers',
    hidden: 0,
  };
}

function slowestBlock(report: Report): Block {
  const items = report.tests
    .filter((t) => t.durationMs > 0)
    .sort((a, b) => b.durationMs - a.durationMs)
    .slice(0, SLOWEST)
    .map((t) => `| ${mdCode(t.id, true)} | ${fmtMs(t.durationMs)} | ${t.status} |\n`);
  return {
    head: '\n### Slowest tests\n\n| test | duration | status |\n|---|---:|---|\n',
    items,
    tail: '',
    what: 'slow tests',
    hidden: 0,
  };
}

function ganttBlock(data: RunData, wallMs: number): Block {
  const timedOut = new Set(data.history.filter((h) => h.o === 'timeout').map((h) => h.b));
  const troubled = (b: BatchRecord) => b.state === 'reclaimed' || b.state === 'released' || timedOut.has(b.id);
  // Troubled batches first, so that the bar cap never hides the ones a reader is looking for.
  const chosen = [...data.batches]
    .sort((a, b) => Number(troubled(b)) - Number(troubled(a)) || a.startMs - b.startMs)
    .slice(0, MAX_BARS);
  const byWorker = new Map<string, BatchRecord[]>(data.workers.map((w) => [w.id, []]));
  for (const b of [...chosen].sort((x, y) => x.startMs - y.startMs)) {
    const list = byWorker.get(b.worker);
    if (list) list.push(b);
    else byWorker.set(b.worker, [b]);
  }
  const rel = (ms: number) => Math.max(0, Math.round(ms - data.seededAtMs));
  const items: string[] = [];
  for (const [worker, batches] of byWorker) {
    batches.forEach((b, i) => {
      const start = rel(b.startMs);
      const end = Math.max(start + 1, rel(b.state === 'active' ? data.nowMs : (b.endMs ?? data.nowMs)));
      const tag = troubled(b) ? 'crit, ' : b.state === 'active' ? 'active, ' : '';
      const label = `${b.tests.length} ${b.tests.length === 1 ? 'test' : 'tests'}${b.isolated ? ' isolated' : ''}`;
      const section = i === 0 ? `  section ${mermaidText(worker)}\n` : '';
      const why = b.state === 'done' && timedOut.has(b.id) ? 'timeout' : b.state;
      items.push(`${section}  ${label} ${troubled(b) ? `(${why}) ` : ''}:${tag}${start}, ${end}\n`);
    });
  }
  const axis = wallMs >= 3_600_000 ? '%H:%M:%S' : '%M:%S';
  return {
    head: `\n### Timeline\n\n\`\`\`mermaid\ngantt\n  dateFormat x\n  axisFormat ${axis}\n  todayMarker off\n`,
    items,
    tail: '```\n',
    what: 'batches',
    hidden: data.batches.length - chosen.length,
  };
}

function truncationNote(b: Block, left: number): string {
  return left > 0 ? `\n_…and ${left} more ${b.what} not shown._\n` : '';
}

/** Bytes of the block rendered in full. */
function blockSize(b: Block): number {
  let n = bytes(b.head) + bytes(b.tail) + bytes(truncationNote(b, b.hidden));
  for (const item of b.items) n += bytes(item);
  return n;
}

/** Renders a block within `budget` bytes, or '' when not even its frame fits. */
function renderBlock(b: Block, budget: number): string {
  if (blockSize(b) <= budget) return b.head + b.items.join('') + b.tail + truncationNote(b, b.hidden);
  // Reserve room for the longest note this block could need.
  let used = bytes(b.head) + bytes(b.tail) + bytes(truncationNote(b, b.items.length + b.hidden));
  if (used > budget) return '';
  let shown = 0;
  for (const item of b.items) {
    const n = bytes(item);
    if (used + n > budget) break;
    used += n;
    shown++;
  }
  return b.head + b.items.slice(0, shown).join('') + b.tail + truncationNote(b, b.items.length - shown + b.hidden);
}

/** Splits `total` among blocks: small ones get all they need, big ones an equal part of the rest. */
function share(needs: number[], total: number): number[] {
  const out = needs.map(() => 0);
  const order = needs.map((_, i) => i).sort((a, b) => needs[a] - needs[b]);
  let left = Math.max(0, total);
  order.forEach((i, k) => {
    out[i] = Math.min(needs[i], Math.floor(left / (order.length - k)));
    left -= out[i];
  });
  return out;
}

/** Last resort for a limit too small for the header: cut at a line end, which is a character boundary. */
function clampBytes(text: string, maxBytes: number): string {
  if (bytes(text) <= maxBytes) return text;
  const note = '\n_(summary truncated)_\n';
  const room = maxBytes - bytes(note);
  if (room <= 0) return '';
  const buf = Buffer.from(text, 'utf8').subarray(0, room);
  return buf.subarray(0, buf.lastIndexOf(0x0a) + 1).toString('utf8') + note;
}

// ---------------------------------------------------------------------------------------------------
// Merged JUnit

export function renderJUnit(report: Report): string {
  const c = report.counts;
  const totals =
    `tests="${c.total}" failures="${c.failed}" errors="${c.lost}" ` +
    `skipped="${c.skipped + c.notRun}" time="${seconds(report.durationMs)}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="shardless" ${totals}>`,
    `  <testsuite name="${xmlAttr(`shardless ${report.queue}`)}" ${totals}>`,
    ...report.tests.map(testcase),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

function testcase(t: ReportTest): string {
  const id = xmlAttr(t.id);
  const lines = [
    `    <testcase name="${id}" classname="${id}" time="${seconds(t.durationMs)}">`,
    '      <properties>',
    `        <property name="shardless.status" value="${t.status}"/>`,
    `        <property name="shardless.runs" value="${t.runs.length}"/>`,
    '      </properties>',
  ];
  const verdict = testcaseVerdict(t);
  if (verdict) lines.push(`      ${verdict}`);
  if (t.runs.length > 0) lines.push(`      <system-out>${xmlText(describeRuns(t.runs))}</system-out>`);
  lines.push('    </testcase>');
  return lines.join('\n');
}

function testcaseVerdict(t: ReportTest): string {
  switch (t.status) {
    case 'failed': {
      const message = lastRun(t, 'failed')?.message ?? '';
      return `<failure message="${xmlAttr(firstLine(message))}" type="failed">${xmlText(message)}</failure>`;
    }
    case 'lost': {
      const n = t.runs.filter((r) => r.outcome === 'lost' || r.outcome === 'timeout').length;
      return `<error type="lost" message="lost after ${n} ${n === 1 ? 'run' : 'runs'} without a result"/>`;
    }
    case 'not-run':
      return '<skipped message="not run"/>';
    case 'skipped':
      return '<skipped/>';
    default:
      return ''; // passed and flaky are passing testcases; flaky shows in its properties and runs
  }
}

function describeRuns(runs: ReportRun[]): string {
  return runs
    .map((r, i) => {
      const head =
        `run ${i + 1}: ${r.outcome} on worker ${r.worker}, batch ${r.batch}` +
        `${r.isolated ? ' (isolated)' : ''}, ${seconds(r.durationMs)} s`;
      const body = r.message ? `\n  ${r.message.replace(/\n/g, '\n  ')}` : '';
      return head + body;
    })
    .join('\n');
}

// ---------------------------------------------------------------------------------------------------
// Writer

/** Writes the JSON report and, when `junitPath` is set, the merged JUnit. */
export async function writeReport(report: Report, reportPath: string, junitPath = ''): Promise<void> {
  await mkdir(dirname(reportPath), { recursive: true });
  await writeFile(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  if (junitPath) {
    await mkdir(dirname(junitPath), { recursive: true });
    await writeFile(junitPath, renderJUnit(report));
  }
}

// ---------------------------------------------------------------------------------------------------
// Helpers: formatting and escaping

function lastRun(t: ReportTest, outcome: ReportRun['outcome']): ReportRun | undefined {
  for (let i = t.runs.length - 1; i >= 0; i--) if (t.runs[i].outcome === outcome) return t.runs[i];
  return undefined;
}

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function cap(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}\n… (${s.length - max} more characters)` : s;
}

/** Line breaks of any kind as spaces: a table cell, an output line or a title stays one line. */
export function oneLine(s: string): string {
  return s.replace(/\r\n|[\r\n\u2028\u2029]/g, ' ');
}

function firstLine(message: string): string {
  // A match rather than split(): messages can be long stack traces, and there may be many.
  const line = /\S[^\r\n]*/.exec(message)?.[0] ?? '';
  return cap(line.trim(), MAX_FIRST_LINE).replace(/\n/g, ' ');
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

function fmtMs(ms: number): string {
  if (ms < 1000) return `${Math.round(Math.max(0, ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const total = Math.floor(ms / 1000);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}h ${pad(m)}m ${pad(s)}s` : `${m}m ${pad(s)}s`;
}

function html(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * Plain text in the middle of a markdown line: escapes what could start emphasis, code, a link,
 * HTML, an entity or a table cell (backslash escapes work on any ASCII punctuation).
 */
export function mdText(s: string): string {
  return oneLine(s).replace(/[\\`*_[\]<>|~&]/g, '\\$&');
}

/**
 * A code span: its content is literal, so only backticks (a longer fence) and, inside a table,
 * pipes (which GFM splits cells on even in code) need care.
 */
export function mdCode(s: string, inTable = false): string {
  let text = oneLine(s);
  if (inTable) text = text.replace(/\|/g, '\\|');
  if (text === '') return '(empty)';
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = /^[\s`]|[\s`]$/.test(text) ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** Mermaid gantt text: `:` `;` `#` and friends are syntax there, so they are replaced outright. */
function mermaidText(s: string): string {
  return oneLine(s).replace(/[:;#`<>"'%{}[\]\\]/g, '_').trim() || '_';
}

// Characters XML 1.0 forbids: C0 controls but tab/LF/CR, U+FFFE/U+FFFF and lone surrogates.
// (Spelled without the `u` flag, which makes this several times slower on large messages.)
const XML_INVALID =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function xmlText(s: string): string {
  return s
    .replace(XML_INVALID, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

/** Also escapes whitespace that attribute normalisation would otherwise turn into spaces. */
function xmlAttr(s: string): string {
  return xmlText(s)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\n/g, '&#10;')
    .replace(/\t/g, '&#9;');
}
