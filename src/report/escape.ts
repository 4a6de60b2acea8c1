// Escaping for the places report text goes: HTML, markdown text and code spans, mermaid, XML.
import { oneLine } from './format.js';

export function html(s: string): string {
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
export function mermaidText(s: string): string {
  return oneLine(s).replace(/[:;#`<>"'%{}[\]\\]/g, '_').trim() || '_';
}

// Characters XML 1.0 forbids: C0 controls but tab/LF/CR, U+FFFE/U+FFFF and lone surrogates.
// (Spelled without the `u` flag, which makes this several times slower on large messages.)
const XML_INVALID =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function xmlText(s: string): string {
  return s
    .replace(XML_INVALID, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r/g, '&#13;');
}

/** Also escapes whitespace that attribute normalisation would otherwise turn into spaces. */
export function xmlAttr(s: string): string {
  return xmlText(s)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\n/g, '&#10;')
    .replace(/\t/g, '&#9;');
}
