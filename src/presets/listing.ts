// Walking the working directory: the files a runner's listing matches (node-test's discovery), and every
// file, walked once per worker (vitest's excludes).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FileListing } from './types.js';

/** Folders no JavaScript runner's tests live in. */
export const JS_SKIP = /^(node_modules|\.git)$/;

/** The files under `cwd` that the listing matches, relative and sorted. */
export function listFiles(listing: FileListing, cwd: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, rel: string): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // unreadable folder: nothing from it
    }
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!listing.skipDir.test(e.name)) walk(join(dir, e.name), path);
      } else if ((e.isFile() || (e.isSymbolicLink() && isFile(join(dir, e.name)))) && listing.match(path)) {
        found.push(path);
      }
    }
  };
  walk(cwd, '');
  return found.sort();
}

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

const ALL_FILES = new Map<string, string[]>();

/** Every file under cwd but node_modules and .git, walked once per worker. */
export function allFiles(cwd: string): string[] {
  let files = ALL_FILES.get(cwd);
  if (!files) {
    files = listFiles({ match: () => true, skipDir: JS_SKIP }, cwd);
    ALL_FILES.set(cwd, files);
  }
  return files;
}
