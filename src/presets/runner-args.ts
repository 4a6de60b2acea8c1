// The `runner-args` input: words added to a runner preset's command. They are split as a shell splits
// them (quotes, backslashes) by shell-quote, but no shell ever runs them, so what a shell would do
// beyond splitting (variables, operators, comments) is refused rather than silently taken literally.
import { parse } from 'shell-quote';

/** Why a runner-args value cannot be taken (the message goes after the input's name). */
export class RunnerArgsError extends Error {}

/** The words of a runner-args value. */
export function parseRunnerArgs(raw: string): string[] {
  let entries: ReturnType<typeof parse>;
  try {
    entries = parse(raw, (name: string) => {
      throw new RunnerArgsError(`holds the variable $${name}: no shell runs it, so nothing is expanded (quote it with '...' to pass it as it is)`);
    });
  } catch (e) {
    if (e instanceof RunnerArgsError) throw e;
    throw new RunnerArgsError(`cannot be split into words (${(e as Error).message})`);
  }
  return entries.map((e) => {
    if (typeof e === 'string') return e;
    // A glob reaches the runner as it is: runners match their own patterns (vitest --project 'unit*').
    if ('op' in e && e.op === 'glob') return e.pattern;
    if ('comment' in e) throw new RunnerArgsError(`holds a comment (#${e.comment}): quote the # to pass it`);
    throw new RunnerArgsError(`holds the shell operator '${'op' in e ? String(e.op) : '?'}': no shell runs it (quote it to pass it as a word)`);
  });
}
