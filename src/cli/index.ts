// src/cli: the `shardless` command, on top of the controller and the worker (which it runs in this
// process) and of src/report (the summary as text). This file is its entry (bin/shardless.js imports the
// bundle, dist/cli/index.js); options.ts says which command takes which option, args.ts parses them,
// help.ts and action-inputs.ts write the help, command-line.ts joins the words after `--`, plain.ts turns
// workflow commands into plain text, and run.ts (display.ts, events.ts, redis-server.ts) is `run`.
//   shardless controller [options]          the action's controller, in this process
//   shardless worker [options] [-- cmd...]  the action's worker, in this process
//   shardless run --workers N [options] -- <command...>   a local parallel run (see run.ts)
//   shardless merge-coverage [options] <dir...>   merges the workers' coverage JSON (merge-coverage.ts)
//   shardless --version                     the package's version
// Options are the action's inputs (--name value, --name=value). Exit status: that of the controller or
// worker; 2 for a command-line mistake; 130 after Ctrl-C in `run`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, readInputs } from '../action/inputs.js';
import { runController, type ControllerHooks } from '../controller/controller.js';
import { runWorker } from '../worker/worker.js';
import { INPUT } from '../names.js';
import { UsageError } from './options.js';
import { getterOf, parseArgs, type Parsed } from './args.js';
import { joinCommand } from './command-line.js';
import { helpText } from './help.js';
import { PARENT_ENV, optionMessage, runLocal } from './run.js';
import { installPlainStdout } from './plain.js';
import { eventWriter } from './events.js';
import { summaryText } from '../report/index.js';
import { VERSION } from '../action/version.js';
import { mergeCoverageCommand } from './merge-coverage.js';

/** A child of `shardless run` stops (as on SIGTERM: hands its work back) when its parent goes away. */
function watchParent(): void {
  const parent = process.env[PARENT_ENV];
  delete process.env[PARENT_ENV];
  if (!parent || Number(parent) !== process.ppid) return;
  let gone = false;
  const stop = () => {
    if (gone) return;
    gone = true;
    // Nobody reads the output any more; the SIGTERM handlers hand the work back (when Redis is still
    // there: a throwaway one went with the parent), and nothing waits for the rest.
    for (const s of [process.stdout, process.stderr]) s.on('error', () => {});
    setTimeout(() => process.exit(1), 10_000).unref();
    process.kill(process.pid, 'SIGTERM');
  };
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}

/**
 * What the controller shows besides its log: started by `shardless run`, its progress and end as
 * events; on its own, the summary as text when there is no GITHUB_STEP_SUMMARY to write it to.
 */
function controllerHooks(): ControllerHooks {
  const send = eventWriter();
  if (send) {
    return {
      progress: (p) => send({ progress: p }),
      ended: (end) => send({ end: { text: summaryText(end.summary), counts: end.counts, reason: end.reason } }),
    };
  }
  if (process.env.GITHUB_STEP_SUMMARY) return {};
  // Before the counts and the reason, which stay the last lines of the log.
  return { ended: (end) => void process.stdout.write(`\n${summaryText(end.summary)}\n`) };
}

async function controllerOrWorker(p: Parsed): Promise<number> {
  const get = getterOf(p);
  const fromDash = p.command === 'worker' && p.rest && p.rest.length > 0 ? joinCommand(p.rest) : '';
  if (fromDash && p.values.get(INPUT.command)) throw new UsageError(`give the command either after '--' or with --${INPUT.command}, not both`);
  let cfg;
  try {
    cfg = readInputs((name) => (name === INPUT.command && fromDash ? fromDash : get(name)), process.env);
  } catch (e) {
    if (e instanceof InputError) throw new UsageError(optionMessage(e.message));
    throw e;
  }
  // Outputs only mean something to GitHub Actions: without GITHUB_OUTPUT they go nowhere.
  const tmp = mkdtempSync(join(tmpdir(), 'shardless-cli-'));
  process.once('exit', () => rmSync(tmp, { recursive: true, force: true }));
  if (!process.env.GITHUB_OUTPUT) {
    process.env.GITHUB_OUTPUT = join(tmp, 'output');
    writeFileSync(process.env.GITHUB_OUTPUT, '');
  }
  watchParent();
  if (cfg.mode === 'worker') return runWorker(cfg);
  return runController(cfg, controllerHooks());
}

async function main(argv: string[]): Promise<number> {
  if (process.env.GITHUB_ACTIONS !== 'true') installPlainStdout(process.stdout);
  if (argv[0] === '--version' || argv[0] === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  // Not a run: none of the action's inputs.
  if (argv[0] === 'merge-coverage') return mergeCoverageCommand(argv.slice(1));
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    const topic = argv[0] === 'help' && argv[1] ? argv[1] : 'top';
    const known = topic === 'controller' || topic === 'worker' || topic === 'run';
    (argv.length === 0 ? process.stderr : process.stdout).write(`${helpText(known ? topic : 'top')}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  let p: Parsed;
  try {
    p = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`shardless: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (p.help) {
    process.stdout.write(`${helpText(p.command)}\n`);
    return 0;
  }
  try {
    return p.command === 'run' ? await runLocal(p) : await controllerOrWorker(p);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`shardless ${p.command}: ${e.message}\n`);
      return 2;
    }
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`shardless ${p.command}: ${e instanceof InputError ? optionMessage(message) : message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`shardless: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
