// The job summary (GITHUB_STEP_SUMMARY): GitHub markdown of a finished run, its sections cut to fit
// the summary's size limit (fit.ts).
import { type Block, blockSize, bytes, clampBytes, renderBlock, share } from './fit.js';
import { cap, firstLine } from './format.js';
import {
  COUNTS, HEADING, MAX_MESSAGE, NOT_RUN_CAP, SLOW, WORKERS, abortReason, countCells, failedRunLine, failureOf, lostLines,
  outcomes, runsNote, slowestRows, title, wallTime, withStatus, workerCells, type Columns,
} from './sections.js';
import { html, mdCode, mdText, mermaidText } from './escape.js';
import type { BatchRecord, Report, RunData } from '../types.js';

const MAX_BARS = 300;
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

const bold = (s: string) => `**${s}**`;
const row = (cells: string[]) => `| ${cells.join(' | ')} |\n`;
const tableHead = (c: Columns) => row(c.head) + `|${c.right.map((r) => (r ? '---:' : '---')).join('|')}|\n`;
const heading = (text: string) => `\n### ${text}\n\n`;
const inTable = (s: string) => mdCode(s, true);

function summaryHeader(report: Report, data: RunData): string {
  let s = `## ${title(report, mdText)}\n\n`;
  s += tableHead(COUNTS) + row(countCells(report)) + '\n';
  s += `${wallTime(report, bold)}\n`;
  const aborted = abortReason(data, mdText);
  if (aborted !== null) s += `\n> ${bold('Run aborted:')} ${aborted}\n`;
  return s;
}

function failedBlock(report: Report): Block {
  const items = withStatus(report, 'failed').map((t) => {
    const message = failureOf(t);
    const list = t.runs.map((r, i) => failedRunLine(r, i, html)).join('\n');
    // An HTML block: its content is not parsed as markdown, so HTML escaping is all it needs.
    return (
      `<details><summary><code>${html(t.id)}</code> — ${html(firstLine(message))}${html(runsNote(t))}</summary>\n\n` +
      `<pre>\n${html(cap(message, MAX_MESSAGE))}\n</pre>\n\n${t.runs.length > 1 ? `<pre>\n${list}\n</pre>\n\n` : ''}</details>\n\n`
    );
  });
  return { head: heading(HEADING.failed), items, tail: '', what: 'failed tests', hidden: 0 };
}

function lostBlock(report: Report): Block {
  const items = withStatus(report, 'lost').map((t) => lostLines(t, (s) => mdCode(s)).map((l) => `${l}\n`).join(''));
  return { head: heading(HEADING.lost), items, tail: '', what: 'lost tests', hidden: 0 };
}

function flakyBlock(report: Report): Block {
  const items = withStatus(report, 'flaky').map((t) => {
    const failure = firstLine(failureOf(t));
    return `- ${mdCode(t.id)} — ${outcomes(t)}${failure ? `: ${mdText(failure)}` : ''}\n`;
  });
  return { head: heading(HEADING.flaky), items, tail: '', what: 'flaky tests', hidden: 0 };
}

function notRunBlock(report: Report): Block {
  const ids = withStatus(report, 'not-run').map((t) => `- ${mdCode(t.id)}\n`);
  return {
    head: heading(HEADING.notRun),
    items: ids.slice(0, NOT_RUN_CAP),
    tail: '',
    what: 'not-run tests',
    hidden: Math.max(0, ids.length - NOT_RUN_CAP),
  };
}

function workersBlock(report: Report): Block {
  const items = report.workers.map((w) => row(workerCells(w, report.durationMs, inTable)));
  return { head: heading(HEADING.workers) + tableHead(WORKERS), items, tail: '', what: 'workers', hidden: 0 };
}

function slowestBlock(report: Report): Block {
  const items = slowestRows(report, inTable).map(row);
  return { head: heading(HEADING.slowest) + tableHead(SLOW), items, tail: '', what: 'slow tests', hidden: 0 };
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
    head: `${heading(HEADING.timeline)}\`\`\`mermaid\ngantt\n  dateFormat x\n  axisFormat ${axis}\n  todayMarker off\n`,
    items,
    tail: '```\n',
    what: 'batches',
    hidden: data.batches.length - chosen.length,
  };
}
