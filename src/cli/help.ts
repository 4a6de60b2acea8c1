// The help of `shardless` and of each command: usage, what it does, its options with their
// descriptions and defaults from action.yml.
import { INPUT } from '../names.js';
import { actionInputs, describeFor } from './action-inputs.js';
import { RUN_OPTIONS, optionsOf, type Command, type OptionSpec } from './options.js';

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
