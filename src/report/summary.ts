// The job summary (GITHUB_STEP_SUMMARY): GitHub markdown of a finished run, its sections cut to fit
// the summary's size limit (fit.ts).
import { type Block, blockSize, bytes, clampBytes, renderBlock, share } from './fit.js';
import { cap, firstLine, fmtMs, lastRun } from './format.js';
import { html, mdCode, mdText, mermaidText } from './escape.js';
import type { BatchRecord, Report, RunData } from '../types.js';

const NOT_RUN_CAP = 100;
const SLOWEST = 10;
const MAX_BARS = 300;
const MAX_MESSAGE = 20_000;
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
