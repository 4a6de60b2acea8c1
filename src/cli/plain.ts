// Plain-text output for the command line: GitHub workflow commands (`::error::`, `::group::`,
// `::add-mask::`, `::set-output`) turned into plain lines or dropped. (The summary as text is
// src/report/text.ts, from the report's data.)

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
export function installPlainStdout(stream: NodeJS.WriteStream = process.stdout): void {
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
    if (!isCommand) return write(chunk, ...rest);
    const out = text
      .replace(/\r?\n$/, '')
      .split(/\r?\n/)
      .map((l) => filter.line(l))
      .filter((l): l is string => l !== null);
    if (out.length === 0) {
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      if (cb) process.nextTick(cb);
      return true;
    }
    return write(`${out.join('\n')}\n`, ...rest);
  }) as typeof stream.write;
}
