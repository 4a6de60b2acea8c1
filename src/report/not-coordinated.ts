// The summary of a run the controller could not coordinate (Redis unreachable): there is no report, so it
// says why, and where the results are instead. As markdown for the job summary, as text for a terminal.
import { INPUT } from '../names.js';
import { mdText } from './escape.js';
import { oneLine } from './format.js';

export interface NotCoordinated {
  queue: string;
  run: string;
  why: string;
  /** Tests of the run. */
  total: number;
  /** `fallback: fail`: the controller's step fails. */
  fail: boolean;
}

type Esc = (s: string) => string;

function heading(n: NotCoordinated, esc: Esc): string {
  return `shardless: ${esc(n.queue)} ${esc(n.run)} — ⚠️ not coordinated`;
}

function paragraphs(n: NotCoordinated, esc: Esc, code: Esc): string[] {
  return [
    `The controller could not coordinate the run: ${esc(n.why)}.`,
    `There is no report of the ${n.total} tests. The workers that cannot reach Redis either run a static share each ` +
      `(${code(INPUT.workerIndex)} of ${code(INPUT.workers)}), and their exit codes and job summaries give the results.`,
    n.fail
      ? `This step fails (${code(`${INPUT.fallback}: fail`)}).`
      : `This step does not fail (${code(`${INPUT.fallback}: static`)}); ${code(`${INPUT.fallback}: fail`)} would fail it.`,
  ];
}

export function renderNotCoordinated(n: NotCoordinated): string {
  return `## ${heading(n, mdText)}\n\n${paragraphs(n, mdText, (s) => `\`${s}\``).join('\n\n')}\n`;
}

export function notCoordinatedText(n: NotCoordinated): string {
  const h = heading(n, oneLine);
  return `${h}\n${'='.repeat([...h].length)}\n\n${paragraphs(n, oneLine, (s) => s).join('\n\n')}\n`;
}
