// The command line's parser: `shardless <command> [options] [-- words...]` into option values, and the
// Getter readInputs reads from them.
import { INPUT } from '../names.js';
import type { Getter } from '../action/inputs.js';
import { COMMANDS, INPUT_OPTIONS, UsageError, optionsOf, type Command } from './options.js';

export interface Parsed {
  command: Command;
  help: boolean;
  /** Option values by name; repeatable options hold their values joined by newlines. */
  values: Map<string, string>;
  /** Words after `--` (run and worker: the command); null when there was no `--`. */
  rest: string[] | null;
}

const BOOL_WORDS = /^(true|false|yes|no|1|0|on|off)$/i;

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

function unknownOption(command: Command, name: string): UsageError {
  const known = optionsOf(command);
  let hint = '';
  const close = known.map((o) => o.name).filter((n) => distance(n, name) <= 2 || (name.length >= 4 && n.startsWith(name)));
  if (close.length > 0) hint = ` (did you mean ${close.map((n) => `--${n}`).join(', ')}?)`;
  else if (INPUT_OPTIONS.some((o) => o.name === name)) {
    const o = INPUT_OPTIONS.find((x) => x.name === name)!;
    hint = command === 'run' && (name === INPUT.workerId || name === INPUT.workerIndex)
      ? ' (shardless run names its workers w1..wN)'
      : ` (it is an option of 'shardless ${o.role === 'common' ? 'run' : o.role}')`;
  } else if (name === INPUT.mode) hint = " (the command, 'controller' or 'worker', is the mode)";
  return new UsageError(`unknown option '--${name}' for 'shardless ${command}'${hint}; see 'shardless ${command} --help'`);
}

/** Parses `shardless <command> [options] [-- words...]` (argv without node and the script). */
export function parseArgs(argv: string[]): Parsed {
  const [first, ...args] = argv;
  if (first === undefined) throw new UsageError(`missing command: 'shardless controller', 'shardless worker' or 'shardless run'; see 'shardless --help'`);
  if (!COMMANDS.includes(first as Command)) {
    throw new UsageError(first.startsWith('-')
      ? `unknown option '${first}': options come after the command; see 'shardless --help'`
      : `unknown command '${first}' (expected controller, worker or run); see 'shardless --help'`);
  }
  const command = first as Command;
  const specs = new Map(optionsOf(command).map((o) => [o.name, o]));
  const values = new Map<string, string>();
  let help = false;
  let rest: string[] | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      if (command === 'controller') throw new UsageError(`'shardless controller' takes no command after '--'; see 'shardless controller --help'`);
      rest = args.slice(i + 1);
      break;
    }
    if (arg === '-h' || arg === '--help') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--') || arg === '--=') {
      const where = command === 'controller' ? '' : ` (put the test command after '--': shardless ${command} [options] -- <command...>)`;
      throw new UsageError(`unexpected argument '${arg}'${where}; see 'shardless ${command} --help'`);
    }
    const eq = arg.indexOf('=');
    let name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : undefined;
    let spec = specs.get(name);
    if (!spec && name.startsWith('no-') && value === undefined && specs.get(name.slice(3))?.flag) {
      name = name.slice(3);
      spec = specs.get(name);
      value = 'false';
    }
    if (!spec) throw unknownOption(command, name);
    if (value === undefined) {
      const next = args[i + 1];
      if (spec.flag) {
        value = next !== undefined && BOOL_WORDS.test(next) ? (i++, next) : 'true';
      } else {
        if (next === undefined || (!spec.dashValue && next.startsWith('--') && next.length > 2) || next === '--') {
          throw new UsageError(`option '--${name}' needs a value (--${name} VALUE or --${name}=VALUE)`);
        }
        value = next;
        i++;
      }
    }
    const old = values.get(name);
    values.set(name, spec.repeatable && old !== undefined ? `${old}\n${value}` : value);
  }
  return { command, help, values, rest };
}

/** The Getter readInputs reads: the parsed options, `mode` being the command. */
export function getterOf(p: Parsed, mode: 'controller' | 'worker' = p.command === 'worker' ? 'worker' : 'controller'): Getter {
  return (name) => (name === INPUT.mode ? mode : p.values.get(name) ?? '');
}
