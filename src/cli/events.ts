// What a controller started by `shardless run` tells it, as data: its progress and its end, one JSON
// object a line on a pipe of their own (fd 3), apart from the log lines it prints for a reader.
import { writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { RunProgress } from '../controller/controller.js';

/** Set by `run` in the controller's environment: the number of the descriptor to write events to. */
export const EVENTS_FD_ENV = 'SHARDLESS_RUN_EVENTS_FD';
/** The descriptor `run` gives the controller for its events (after stdin, stdout and stderr). */
export const EVENTS_FD = 3;

/** The summary as text, the counts line ('' without a report), and why the run fails (null: it passes). */
export interface EndEvent {
  text: string;
  counts: string;
  reason: string | null;
}

export type RunEvent = { progress: RunProgress } | { end: EndEvent };

/** The writer of this process's events, when `run` started it with an events pipe; else null. */
export function eventWriter(env: NodeJS.ProcessEnv = process.env): ((e: RunEvent) => void) | null {
  const fd = Number(env[EVENTS_FD_ENV]);
  delete env[EVENTS_FD_ENV];
  if (!Number.isInteger(fd) || fd < 3) return null;
  return (e) => {
    try {
      // Synchronous: the end event must be out before the process exits.
      writeSync(fd, `${JSON.stringify(e)}\n`);
    } catch {
      // `run` has gone: nobody to tell
    }
  };
}

/** Calls `on` with each line of `stream` (without its newline), the last one too when it has none. */
export function eachLine(stream: Readable, on: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop()!;
    lines.forEach((l) => on(l));
  });
  stream.on('end', () => {
    if (buf) on(buf);
    buf = '';
  });
}

/** Calls `on` with each event read from `stream`; lines that are not an event are ignored. */
export function readEvents(stream: Readable, on: (e: RunEvent) => void): void {
  const take = (line: string) => {
    if (!line.trim()) return;
    try {
      on(JSON.parse(line) as RunEvent);
    } catch {
      // not ours
    }
  };
  eachLine(stream, take);
}
