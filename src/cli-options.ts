// Options of the `shardless` command: the action's inputs as `--name value` / `--name=value`, parsed
// into a Getter for readInputs, and the help text. Descriptions and defaults come from action.yml
// (ncc copies it next to the bundle); which command takes which option is the table below, which the
// type checker keeps in step with INPUT.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { INPUT } from './names.js';
import type { Getter } from './inputs.js';

export type Command = 'controller' | 'worker' | 'run';
export const COMMANDS: readonly Command[] = ['controller', 'worker', 'run'];

/** A command-line mistake: reported in one line, exit status 2. */
export class UsageError extends Error {}

type InputKey = Exclude<keyof typeof INPUT, 'mode'>;
export type Role = 'common' | 'controller' | 'worker';

/**
 * Which command takes each input (`mode` is the command itself), and which inputs are on/off flags.
 * `run` takes all of them but `worker-id` and `worker-index` (it names its workers w1..wN).
 */
const INPUT_ROLES: Record<InputKey, { role: Role; flag?: true; dashValue?: true }> = {
  redisUrl: { role: 'common' },
  redisCa: { role: 'common' },
  redisInsecure: { role: 'common', flag: true },
  redisCluster: { role: 'common', flag: true },
  queue: { role: 'common' },
  runId: { role: 'common' },
  workingDirectory: { role: 'common' },
  runner: { role: 'common' },
  noWorkerTimeout: { role: 'common' },
  fallback: { role: 'common' },
  tests: { role: 'common' },
  testsFile: { role: 'common' },
  testsCommand: { role: 'common' },
  batchSize: { role: 'controller' },
  batchDuration: { role: 'controller' },
  workers: { role: 'common' },
  maxAttempts: { role: 'controller' },
  retries: { role: 'controller' },
  batchTimeout: { role: 'controller' },
  heartbeatTtl: { role: 'controller' },
  timeout: { role: 'controller' },
  maxFailures: { role: 'controller' },
  failOnFlaky: { role: 'controller', flag: true },
  timings: { role: 'controller', flag: true },
  timingsFile: { role: 'common' },
  timingsOutput: { role: 'controller' },
  ttl: { role: 'controller' },
  reportOutput: { role: 'controller' },
  junitOutput: { role: 'controller' },
  command: { role: 'worker' },
  junit: { role: 'worker' },
  workerId: { role: 'worker' },
  workerIndex: { role: 'worker' },
  shell: { role: 'worker' },
  reportsDir: { role: 'worker' },
  // Its value is a runner's options: `--runner-args --config x` takes '--config x'.
  runnerArgs: { role: 'common', dashValue: true },
};

export interface OptionSpec {
  name: string;
  role: Role | 'run';
  flag: boolean;
  /** Given several times, its values are joined as lines (`--tests`). */
  repeatable: boolean;
  /** Its value may start with `--` (runner-args). */
  dashValue?: boolean;
}

/** The action's inputs as options, in action.yml order when it is readable. */
export const INPUT_OPTIONS: OptionSpec[] = (Object.keys(INPUT_ROLES) as InputKey[]).map((k) => ({
  name: INPUT[k],
  role: INPUT_ROLES[k].role,
  flag: INPUT_ROLES[k].flag === true,
  repeatable: k === 'tests',
  dashValue: INPUT_ROLES[k].dashValue === true,
}));

/** Options of `shardless run` only. */
export const RUN_OPTIONS: (OptionSpec & { description: string; default: string })[] = [
  {
    name: 'workers', role: 'run', flag: false, repeatable: false,
    description: 'How many workers to start (each runs its own batches, one at a time).',
    default: `number of CPUs (${availableParallelism()} here)`,
  },
];

/** The options a command accepts. */
export function optionsOf(command: Command): OptionSpec[] {
  // run's own --workers both starts the workers and tells the controller how many to expect.
  if (command === 'run') return [...RUN_OPTIONS, ...INPUT_OPTIONS.filter((o) => o.name !== INPUT.workerId && o.name !== INPUT.workerIndex && o.name !== INPUT.workers)];
  return INPUT_OPTIONS.filter((o) => o.role === 'common' || o.role === command);
}

// ---------------------------------------------------------------------------------------------------
// action.yml

export interface InputMeta {
  description: string;
  default: string;
  required: boolean;
}

// One literal URL, so that ncc copies action.yml next to the bundle and rewrites this path.
const ACTION_YML = new URL('../action.yml', import.meta.url);

function scalar(raw: string): string {
  const v = raw.trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) {
    return v.slice(1, -1).replace(/\\(["\\/nt])/g, (_, c: string) => ({ n: '\n', t: '\t' })[c as 'n' | 't'] ?? c);
  }
  if (v.startsWith("'") && v.endsWith("'") && v.length >= 2) return v.slice(1, -1).replace(/''/g, "'");
  return v.replace(/\s+#.*$/, '');
}

/** The `inputs:` of an action.yml: the small YAML subset action files use (no anchors, no flow maps). */
export function parseActionInputs(text: string): Map<string, InputMeta> {
  const res = new Map<string, InputMeta>();
  const lines = text.split(/\r?\n/);
  let inInputs = false;
  let current: InputMeta | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\S/.test(line)) {
      inInputs = /^inputs:\s*$/.test(line);
      current = null;
      continue;
    }
    if (!inInputs) continue;
    const name = /^ {2}([A-Za-z0-9_-]+):\s*$/.exec(line);
    if (name) {
      current = { description: '', default: '', required: false };
      res.set(name[1], current);
      continue;
    }
    const prop = /^ {4}(description|default|required):\s*(.*)$/.exec(line);
    if (!prop || !current) continue;
    let value: string;
    if (/^[|>][+-]?\s*$/.test(prop[2])) {
      // A block scalar: the more-indented lines that follow.
      const block: string[] = [];
      while (i + 1 < lines.length && (/^ {6}/.test(lines[i + 1]) || lines[i + 1].trim() === '')) block.push(lines[++i].trim());
      value = (prop[2].startsWith('>') ? block.join(' ') : block.join('\n')).trim();
    } else {
      value = scalar(prop[2]);
    }
    if (prop[1] === 'description') current.description = value;
    else if (prop[1] === 'default') current.default = value;
    else current.required = value === 'true';
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

// ---------------------------------------------------------------------------------------------------
// Parsing

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

// ---------------------------------------------------------------------------------------------------
// Joining a command line

const PLACEHOLDERS = /(\{tests\}|\{tests-file\}|\{junit\})/;
const SAFE = /^[A-Za-z0-9_\-+=.,/:@%^]+$/;

function quoteWord(s: string): string {
  if (s === '') return "''";
  return SAFE.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
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

// ---------------------------------------------------------------------------------------------------
// Help

const ABOUT: Record<Command | 'top', { usage: string; text: string }> = {
  top: {
    usage: 'shardless <command> [options]',
    text: 'Spread a test suite over parallel workers through a Redis queue, and never lose a test.',
  },
  controller: {
    usage: 'shardless controller [options]',
    text:
      'Seeds the queue with the tests, watches the workers and requeues what dead ones held, then prints\n' +
      'the summary and writes the report. Exits 1 when a test failed, was lost or did not run.\n' +
      'One controller per run; start it alongside the workers.',
  },
  worker: {
    usage: 'shardless worker [options] [-- <command...>]',
    text:
      'Claims batches of tests and runs the command on each until the run is complete. The command is\n' +
      "--command, or the words after '--' (shell-quoted; {tests}, {tests-file} and {junit} are filled in).\n" +
      'Exits 1 when a test it ran ended failed or lost.',
  },
  run: {
    usage: 'shardless run [--workers N] [options] -- <command...>',
    text:
      'A local parallel run: a controller and N workers on --redis-url (or SHARDLESS_REDIS_URL, REDIS_URL),\n' +
      'or on a throwaway redis-server started on a free port and stopped at the end. The words after\n' +
      "'--' are the worker command ({tests}, {tests-file} and {junit} are filled in). Prints the summary and\n" +
      'exits like the controller; Ctrl-C stops everything and exits 130. Run id default: local-<timestamp>.',
  },
};

function wrap(text: string, width: number, indent: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > width - indent) {
        out.push(line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    out.push(line);
  }
  return out;
}

function optionLines(specs: OptionSpec[], command: Command, width: number): string[] {
  const inputs = actionInputs();
  const col = 28;
  const lines: string[] = [];
  for (const o of specs) {
    // run's own options (its --workers starts workers) only in run's help; elsewhere the action input's.
    const run = o.role === 'run' ? RUN_OPTIONS.find((r) => r.name === o.name) : undefined;
    const m = run ?? inputs?.get(o.name);
    let text = m ? describeFor(m.description, command).replace(/`/g, '') : '';
    if (command === 'run' && o.name === INPUT.runId) text = 'Identifies the run (the keys in Redis). [default: local-<timestamp>]';
    text = text.charAt(0).toUpperCase() + text.slice(1);
    if (o.repeatable) text += ' Repeat the option for several lines.';
    if (o.name === INPUT.command && command === 'worker') text += " Or give it after '--'.";
    const def = command === 'run' && o.name === INPUT.runId ? '' : m?.default ?? '';
    if (def !== '') text += ` [default: ${def}]`;
    const head = `  --${o.name}${o.flag ? ' [true|false]' : ` <${o.name === 'workers' ? 'N' : 'value'}>`}`;
    const body = wrap(text.trim(), width, col);
    if (head.length < col - 1) {
      lines.push(head.padEnd(col) + body[0]);
    } else {
      lines.push(head);
      lines.push(' '.repeat(col) + body[0]);
    }
    for (const b of body.slice(1)) lines.push(' '.repeat(col) + b);
  }
  return lines;
}

/** The help of a command (or of `shardless` itself). */
export function helpText(command: Command | 'top', width = Math.max(80, Math.min(process.stdout.columns ?? 100, 120))): string {
  const a = ABOUT[command];
  const out = [`Usage: ${a.usage}`, '', a.text, ''];
  if (command === 'top') {
    out.push(
      'Commands:',
      '  controller    one per run: seeds the queue, watches the workers, prints the summary and writes the report',
      '  worker        one per parallel job: claims batches and runs the test command on them',
      '  run           a local run: a controller and N workers (and a throwaway redis-server) in one command',
      "  merge-coverage  merges the coverage JSON of the workers' reports-dir (jest) into one report",
      '',
      "Run 'shardless <command> --help' for the options of a command, 'shardless --version' for the",
      'version. Options have the names of the GitHub Action\'s inputs: --name value or --name=value.',
      'Redis: --redis-url, else the environment variables SHARDLESS_REDIS_URL, then REDIS_URL.',
      '',
      'Examples:',
      "  shardless run --workers 4 --tests 'test/**/*.test.ts' -- npx vitest run --reporter=junit --outputFile={junit} {tests}",
      '  shardless controller --run-id "$CI_PIPELINE_ID" --tests-file tests.txt',
      '  shardless worker --run-id "$CI_PIPELINE_ID" --worker-id "$CI_NODE_INDEX" -- npx vitest run {tests}',
      '',
    );
    return out.join('\n');
  }
  const specs = optionsOf(command);
  const groups: [string, OptionSpec[]][] = command === 'run'
    ? [['Run', specs.filter((o) => o.role === 'run')], ['Common', specs.filter((o) => o.role === 'common')],
      ['Controller', specs.filter((o) => o.role === 'controller')], ['Worker', specs.filter((o) => o.role === 'worker')]]
    : [['Options', specs]];
  for (const [title, list] of groups) {
    out.push(command === 'run' ? `${title} options:` : 'Options:', ...optionLines(list, command, width), '');
  }
  out.push('  -h, --help                Show this help.', '');
  if (actionInputs() === null) out.push('(action.yml was not found next to the program, so descriptions and defaults are left out)', '');
  out.push(
    'Redis: --redis-url, else the environment variables SHARDLESS_REDIS_URL, then REDIS_URL.',
    command === 'run' ? '' : 'Outside GitHub Actions, --run-id is required: the same value for the controller and every worker of a run.',
    'On/off options take true or false, or stand alone for true (--no-<name> for false).',
    '',
  );
  return out.filter((l, i, arr) => !(l === '' && arr[i - 1] === '')).join('\n');
}
