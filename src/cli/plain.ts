// Plain-text output for the command line: GitHub workflow commands (`::error::`, `::group::`,
// `::add-mask::`, `::set-output`) turned into plain lines or dropped, and the controller's markdown
// job summary rendered as text for a terminal or a CI log.

function unescapeData(s: string): string {
  return s.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/g, '%');
}

function unescapeProperty(s: string): string {
  return unescapeData(s).replace(/%3A/gi, ':').replace(/%2C/gi, ',');
}

/**
 * One line of output as it should read outside GitHub Actions: a workflow command becomes plain text
 * (`error: file:line: message`, a group's title) or nothing (null): masks, outputs, debug, group ends.
 * Other lines are returned as they are.
 */
export function plainLine(line: string): string | null {
  const m = /^::([A-Za-z-]+)(?: ([^:]*))?::(.*)$/s.exec(line);
  if (!m) return line;
  const [, cmd, propText, data] = m;
  const props = new Map<string, string>();
  for (const kv of (propText ?? '').split(',')) {
    const eq = kv.indexOf('=');
    if (eq > 0) props.set(kv.slice(0, eq).trim(), unescapeProperty(kv.slice(eq + 1)));
  }
  const message = unescapeData(data);
  switch (cmd) {
    case 'error':
    case 'warning':
    case 'notice': {
      const file = props.get('file');
      const where = file ? `${file}${props.get('line') ? `:${props.get('line')}` : ''}: ` : '';
      const title = props.get('title');
      const first = `${cmd}: ${where}${title && !message.startsWith(title) ? `${title}: ` : ''}`;
      return first + message;
    }
    case 'group':
      return message;
    case 'endgroup':
    case 'add-mask':
    case 'set-output':
    case 'save-state':
    case 'debug':
    case 'echo':
    case 'add-matcher':
    case 'remove-matcher':
    case 'stop-commands':
      return null;
    default:
      return line;
  }
}

/**
 * plainLine with the state of `::stop-commands::TOKEN` ... `::TOKEN::` (the worker turns workflow
 * commands off while it logs test ids): both markers are dropped.
 */
export class PlainFilter {
  private readonly tokens = new Set<string>();

  line(line: string): string | null {
    const stop = /^::stop-commands::(.+)$/.exec(line);
    if (stop) {
      this.tokens.add(stop[1]);
      return null;
    }
    const resume = /^::(.+)::$/.exec(line);
    if (resume && this.tokens.delete(resume[1])) return null;
    return plainLine(line);
  }
}

/**
 * Rewrites what this process writes to stdout so that workflow commands read as plain text (see
 * plainLine). @actions/core writes each command in one write, ending in a newline; setOutput first
 * writes a bare newline, which is held back and dropped when a set-output follows.
 */
export function installPlainStdout(stream: NodeJS.WriteStream = process.stdout, onLine?: (line: string) => void): void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  let heldNewline = false;
  const filter = new PlainFilter();
  stream.write = ((chunk: unknown, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : null;
    if (text === null) return write(chunk, ...rest);
    if (text === '\n' || text === '\r\n') {
      if (heldNewline) write('\n');
      heldNewline = true;
      return true;
    }
    const isCommand = text.startsWith('::');
    if (heldNewline && !(isCommand && text.startsWith('::set-output'))) write('\n');
    heldNewline = false;
    if (!isCommand) {
      if (onLine) for (const l of text.replace(/\r?\n$/, '').split(/\r?\n/)) onLine(l);
      return write(chunk, ...rest);
    }
    const out = text
      .replace(/\r?\n$/, '')
      .split(/\r?\n/)
      .map((l) => filter.line(l))
      .filter((l): l is string => l !== null);
    if (onLine) for (const l of out) onLine(l);
    if (out.length === 0) {
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (cb) process.nextTick(cb);
      return true;
    }
    return write(`${out.join('\n')}\n`, ...rest);
  }) as typeof stream.write;
}

// ---------------------------------------------------------------------------------------------------
// Markdown summary -> text

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

function entities(s: string): string {
  return s.replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (all, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1));
      return Number.isFinite(code) ? String.fromCodePoint(code) : all;
    }
    return ENTITIES[e.toLowerCase()] ?? all;
  });
}

/** Inline markdown to text: code spans kept literally, emphasis markers and backslash escapes dropped. */
export function inlineText(s: string): string {
  let out = '';
  let i = 0;
  const plain = (t: string) =>
    entities(
      t
        .replace(/<\/?(code|b|strong|em|i|summary|details|br)\s*\/?>/gi, '')
        .replace(/\*\*(.+?)\*\*/g, '$1')
        .replace(/(^|[\s(])_(\S(?:.*?\S)?)_(?=$|[\s).,:;])/g, '$1$2')
        .replace(/\\([!-/:-@[-`{-~])/g, '$1'),
    );
  while (i < s.length) {
    const tick = s.indexOf('`', i);
    if (tick < 0 || (tick > 0 && s[tick - 1] === '\\')) {
      if (tick < 0) {
        out += plain(s.slice(i));
        break;
      }
      out += plain(s.slice(i, tick + 1));
      i = tick + 1;
      continue;
    }
    const fence = /^`+/.exec(s.slice(tick))![0];
    const end = s.indexOf(fence, tick + fence.length);
    if (end < 0) {
      out += plain(s.slice(i));
      break;
    }
    out += plain(s.slice(i, tick));
    let code = s.slice(tick + fence.length, end);
    if (code.length > 2 && code.startsWith(' ') && code.endsWith(' ')) code = code.slice(1, -1);
    out += code;
    i = end + fence.length;
  }
  return out;
}

function tableCells(row: string): string[] {
  const body = row.trim().replace(/^\|/, '').replace(/\|$/, '');
  const cells: string[] = [];
  let cur = '';
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && body[i + 1] === '|') {
      cur += '|';
      i++;
    } else if (body[i] === '|') {
      cells.push(cur);
      cur = '';
    } else {
      cur += body[i];
    }
  }
  cells.push(cur);
  return cells.map((c) => c.trim());
}

function renderTable(rows: string[]): string[] {
  const parsed = rows.map(tableCells);
  const sepIndex = parsed.findIndex((r) => r.every((c) => /^:?-+:?$/.test(c)));
  const right = sepIndex >= 0 ? parsed[sepIndex].map((c) => c.endsWith(':')) : [];
  const data = parsed.filter((_, i) => i !== sepIndex).map((r) => r.map(inlineText));
  const n = Math.max(...data.map((r) => r.length));
  const width = Array.from({ length: n }, (_, j) => Math.max(...data.map((r) => [...(r[j] ?? '')].length)));
  const fmt = (r: string[]) =>
    r.map((c, j) => {
      const pad = ' '.repeat(Math.max(0, width[j] - [...c].length));
      return right[j] ? pad + c : c + pad;
    }).join('  ').trimEnd();
  const out: string[] = [];
  data.forEach((r, i) => {
    out.push(`  ${fmt(r)}`);
    if (i === 0 && sepIndex === 1) out.push(`  ${width.map((w) => '-'.repeat(w)).join('  ')}`);
  });
  return out;
}

/**
 * The controller's markdown summary as text: headings as plain lines, tables aligned, HTML details
 * flattened, and the mermaid timeline (a chart, unreadable as text) left out with its heading.
 */
export function markdownToText(md: string): string {
  const src = md.replace(/<!--[\s\S]*?-->/g, '').split(/\r?\n/);
  const out: string[] = [];
  let inPre = false;
  for (let i = 0; i < src.length; i++) {
    const line = src[i];
    const fence = /^(\s*)(`{3,}|~{3,})\s*(\S*)/.exec(line);
    if (fence && !inPre) {
      const close = src.findIndex((l, j) => j > i && l.trim().startsWith(fence[2]));
      const body = src.slice(i + 1, close < 0 ? src.length : close);
      if (fence[3] === 'mermaid') {
        // The heading right above it goes too, when the chart was all its section held.
        while (out.length && out[out.length - 1] === '') out.pop();
        if (out.length && out[out.length - 1].startsWith('\u0000h')) out.pop();
      } else {
        out.push(...body.map((b) => `    ${b}`));
      }
      i = close < 0 ? src.length : close;
      continue;
    }
    if (inPre) {
      if (/<\/pre>/i.test(line)) {
        inPre = false;
        const before = line.replace(/<\/pre>.*$/i, '');
        if (before.trim()) out.push(`    ${entities(before)}`);
        continue;
      }
      out.push(`    ${entities(line)}`);
      continue;
    }
    if (/^\s*<pre>/i.test(line)) {
      inPre = true;
      const after = line.replace(/^\s*<pre>/i, '');
      if (after.trim()) out.push(`    ${entities(after)}`);
      continue;
    }
    if (/^\s*<\/details>\s*$/i.test(line)) continue;
    const details = /^\s*<details>\s*<summary>(.*?)<\/summary>\s*$/i.exec(line);
    if (details) {
      out.push(`- ${inlineText(details[1])}`);
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const text = inlineText(heading[2]);
      // Marked so that an empty section (the timeline) can drop its heading; unmarked below.
      out.push(`\u0000h${heading[1].length <= 2 ? `${text}\n${'='.repeat([...text].length)}` : `${text}:`}`);
      continue;
    }
    if (/^\s*\|/.test(line)) {
      const rows: string[] = [];
      while (i < src.length && /^\s*\|/.test(src[i])) rows.push(src[i++]);
      i--;
      out.push(...renderTable(rows));
      continue;
    }
    const quote = /^\s*>\s?(.*)$/.exec(line);
    if (quote) {
      out.push(`  ${inlineText(quote[1])}`);
      continue;
    }
    out.push(inlineText(line));
  }
  const text = out
    .map((l) => (l.startsWith('\u0000h') ? l.slice(2) : l))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return `${text}\n`;
}
