// action.yml's inputs, for the help: their descriptions and defaults, read with a YAML parser from the
// copy next to the bundle (ncc copies it there and rewrites the path below).
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Command } from './options.js';

export interface InputMeta {
  description: string;
  default: string;
  required: boolean;
}

// One literal URL, so that ncc copies action.yml next to the bundle and rewrites this path.
const ACTION_YML = new URL('../../action.yml', import.meta.url);

/** The `inputs:` of an action.yml. */
export function parseActionInputs(text: string): Map<string, InputMeta> {
  const doc = parse(text) as { inputs?: Record<string, { description?: unknown; default?: unknown; required?: unknown } | null> } | null;
  const res = new Map<string, InputMeta>();
  for (const [name, input] of Object.entries(doc?.inputs ?? {})) {
    res.set(name, {
      description: String(input?.description ?? '').trim(),
      default: String(input?.default ?? ''),
      required: input?.required === true || input?.required === 'true',
    });
  }
  return res;
}

let meta: Map<string, InputMeta> | null | undefined;

/** action.yml's inputs, or null when it cannot be read (help then lists the names alone). */
export function actionInputs(): Map<string, InputMeta> | null {
  if (meta === undefined) {
    try {
      meta = parseActionInputs(readFileSync(ACTION_YML, 'utf8'));
    } catch {
      meta = null;
    }
  }
  return meta;
}

/**
 * The part of an input's description that concerns a command: descriptions say "Controller: ..."
 * and "Worker: ..." for the inputs of one role (no-worker-timeout says both).
 */
export function describeFor(description: string, command: Command): string {
  const parts = description.split(/(?=\b(?:Controller|Worker): )/);
  if (parts.length === 1) return description.replace(/^(Controller|Worker): /, '');
  const want = command === 'worker' ? 'Worker: ' : 'Controller: ';
  const mine = parts.filter((p) => p.startsWith(want));
  if (command === 'run' || mine.length === 0) return description;
  // What comes before the first "Controller:"/"Worker:" concerns both.
  const lead = /^(Controller|Worker): /.test(parts[0]) ? [] : [parts[0].trim()];
  return [...lead, ...mine.map((p) => p.slice(want.length).trim())].map((t) => t.charAt(0).toUpperCase() + t.slice(1)).join(' ');
}
