// What a batch wrote: its {junit} file, and the files matching the junit glob (relative to the batch's
// cwd) with the stamps that tell a file this batch wrote or changed from a previous batch's.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as glob from '@actions/glob';
import type { BatchFiles } from './batch-files.js';

/** The batch's {junit} file, when the run wrote it. */
export async function written(files: BatchFiles): Promise<string[]> {
  return (await stamp(files.junitPath)) ? [files.junitPath] : [];
}

export interface Stamp {
  mtimeMs: number;
  size: number;
}

async function stamp(file: string): Promise<Stamp | undefined> {
  try {
    const st = await fs.stat(file);
    return st.isFile() ? { mtimeMs: st.mtimeMs, size: st.size } : undefined;
  } catch {
    return undefined;
  }
}

/** Files matching the glob (relative to cwd), with their stamps. A bad glob matches nothing, loudly. */
export async function statGlob(patterns: string, cwd: string): Promise<Map<string, Stamp>> {
  const found = new Map<string, Stamp>();
  try {
    const globber = await glob.create(absolutePatterns(patterns, cwd), { matchDirectories: false, implicitDescendants: false });
    for (const file of await globber.glob()) {
      const st = await stamp(file);
      if (st) found.set(file, st);
    }
  } catch (err) {
    process.stderr.write(`shardless: cannot match the junit glob '${patterns}': ${(err as Error).message}\n`);
  }
  return found;
}

/** @actions/glob resolves relative patterns against process.cwd(); ours are relative to the batch's cwd. */
function absolutePatterns(patterns: string, cwd: string): string {
  const root = globEscape(cwd);
  return patterns
    .split('\n')
    .map((line) => {
      const trimmed = line.trim();
      if (!trimmed || trimmed.startsWith('#')) return '';
      const neg = /^!+/.exec(trimmed)?.[0] ?? '';
      const p = trimmed.slice(neg.length).trim();
      if (p === '~' || p.startsWith('~/') || path.isAbsolute(p)) return neg + p;
      // path.resolve also folds the '..' segments that @actions/glob rejects.
      return neg + path.resolve(root, p);
    })
    .filter(Boolean)
    .join('\n');
}

/** Same escaping as @actions/glob's for a literal path (POSIX). */
function globEscape(s: string): string {
  return s
    .replace(/\\/g, '\\\\')
    .replace(/(\[)(?=[^/]+\])/g, '[[]')
    .replace(/\?/g, '[?]')
    .replace(/\*/g, '[*]');
}
