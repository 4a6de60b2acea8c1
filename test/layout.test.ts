// The layout of src/ is its architecture (README, "Where things are"): each folder's first file says
// what it owns, imports flow one way, and no source file grows past about 300 lines.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT } from './helpers/action.js';

const SRC = join(ROOT, 'src');

/** Who may import whom, at run time: a folder imports its own files and lower layers only. */
const LAYER: Record<string, number> = {
  cli: 0, //                             the command line, which takes the action's inputs as options
  action: 1, //                          the GitHub Action
  controller: 2, worker: 2, //           the two roles of a run
  sizing: 3, presets: 3, //              the cost model; the runners
  queue: 4, report: 4, //                Redis; what a run says
  '': 5, //                              config, names, types, errors, env, text: the shared vocabulary
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(ts|mjs|cjs)$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

const folderOf = (file: string) => {
  const parts = relative(SRC, file).split('/');
  return parts.length > 1 ? parts[0] : '';
};

/** Run-time imports (not `import type`) of a file, as absolute paths inside src/. */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/^(?:import|export)\s+(?!type\s)(?:[^'"]*?\sfrom\s+)?['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1]);
  return specs.map((s) => resolve(dirname(file), s)).filter((p) => p.startsWith(SRC));
}

describe('src/ layout', () => {
  const files = sources(SRC);

  test('every folder of src/ has a layer, and an index.ts whose first line names the folder', () => {
    const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
    expect(folders.sort()).toEqual(Object.keys(LAYER).filter(Boolean).sort());
    for (const f of folders) expect(readFileSync(join(SRC, f, 'index.ts'), 'utf8').split('\n')[0], f).toMatch(new RegExp(`^// src/${f}: `));
  });

  test('imports flow one way: a folder imports its own files and lower layers only', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = folderOf(file);
      if (relative(SRC, file) === 'index.ts') continue; // the action's entry: one line that starts src/action
      for (const target of runtimeImports(file)) {
        const to = folderOf(target);
        if (to !== from && !(LAYER[to] > LAYER[from])) wrong.push(`${relative(ROOT, file)} imports ${relative(ROOT, target)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test('no source file over 300 lines', () => {
    const long = files.map((f) => [relative(ROOT, f), readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > 300);
    expect(long).toEqual([]);
  });
});
