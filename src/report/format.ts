// Formatting shared by the report's renderings (summary, text, JUnit, annotations, exit reason):
// durations, first lines, one-line text, and runner output without its colours.
import type { Report } from '../types.js';

type ReportTest = Report['tests'][number];
type ReportRun = ReportTest['runs'][number];

/** Most characters of a failure's first line where one is shown. */
const MAX_FIRST_LINE = 200;

export function lastRun(t: ReportTest, outcome: ReportRun['outcome']): ReportRun | undefined {
  for (let i = t.runs.length - 1; i >= 0; i--) if (t.runs[i].outcome === outcome) return t.runs[i];
  return undefined;
}

export function cap(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}\n… (${s.length - max} more characters)` : s;
}

/** Line breaks of any kind as spaces: a table cell, an output line or a title stays one line. */
export function oneLine(s: string): string {
  return s.replace(/\r\n|[\r\n\u2028\u2029]/g, ' ');
}

export function firstLine(message: string): string {
  // A match rather than split(): messages can be long stack traces, and there may be many.
  const line = /\S[^\r\n]*/.exec(message)?.[0] ?? '';
  return cap(line.trim(), MAX_FIRST_LINE).replace(/\n/g, ' ');
}

export function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

export function fmtMs(ms: number): string {
  if (ms < 1000) return `${Math.round(Math.max(0, ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const total = Math.floor(ms / 1000);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}h ${pad(m)}m ${pad(s)}s` : `${m}m ${pad(s)}s`;
}

// ANSI colour and cursor sequences (runners colour their output), and C0 controls but tab and newline.
export const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[@-_]/g;
export const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F]/g;

/** Text without its ANSI colour and cursor sequences. */
export const withoutAnsi = (text: string): string => text.replace(ANSI, '');
