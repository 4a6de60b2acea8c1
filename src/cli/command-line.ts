// The words after `--` as the worker's command (a shell command line).
import { shellQuote } from '../text.js';

const PLACEHOLDERS = /(\{tests\}|\{tests-file\}|\{junit\})/;
const SAFE = /^[A-Za-z0-9_\-+=.,/:@%^]+$/;

/** A word as it is when nothing in it is special to a shell, else quoted. */
function quoteWord(s: string): string {
  return SAFE.test(s) ? s : shellQuote(s);
}

/**
 * The words after `--` as one shell command: each word shell-quoted (where it needs it), the
 * placeholders {tests}, {tests-file} and {junit} left bare so that shardless fills them in. A single
 * word holding a space is taken as a shell command as it is (`-- 'npm test -- {tests}'`).
 */
export function joinCommand(words: string[]): string {
  if (words.length === 1 && /\s/.test(words[0])) return words[0];
  return words
    .map((w) => (w === '' ? "''" : w.split(PLACEHOLDERS).map((part, i) => (i % 2 === 1 ? part : part === '' ? '' : quoteWord(part))).join('')))
    .join(' ');
}
