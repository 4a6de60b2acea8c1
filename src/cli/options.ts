// Options of the `shardless` command: the action's inputs as `--name value` / `--name=value`, which
// command takes which (the table below, which the type checker keeps in step with INPUT), and run's own.
// Parsing is args.ts, the help help.ts, action.yml's descriptions and defaults action-inputs.ts.
import { availableParallelism } from 'node:os';
import { INPUT } from '../names.js';

export type Command = 'controller' | 'worker' | 'run';
export const COMMANDS: readonly Command[] = ['controller', 'worker', 'run'];

/** A command-line mistake: reported in one line, exit status 2. */
export class UsageError extends Error {}

type InputKey = Exclude<keyof typeof INPUT, 'mode'>;
export type Role = 'common' | 'controller' | 'worker';

/**
 * Which command takes each input (`mode` is the command itself), in the order help lists them.
 * `run` takes all of them but `worker-id` and `worker-index` (it names its workers w1..wN).
 */
const ROLE: Record<InputKey, Role> = {
  redisUrl: 'common', redisCa: 'common', redisInsecure: 'common', redisCluster: 'common', queue: 'common', runId: 'common',
  workingDirectory: 'common', runner: 'common', noWorkerTimeout: 'common', fallback: 'common',
  tests: 'common', testsFile: 'common', testsCommand: 'common',
  batchSize: 'controller', batchDuration: 'controller',
  workers: 'common',
  maxAttempts: 'controller', retries: 'controller', batchTimeout: 'controller', heartbeatTtl: 'controller', timeout: 'controller',
  maxFailures: 'controller', failOnFlaky: 'controller', timings: 'controller',
  timingsFile: 'common',
  timingsOutput: 'controller', ttl: 'controller', reportOutput: 'controller', junitOutput: 'controller',
  command: 'worker', junit: 'worker', workerId: 'worker', workerIndex: 'worker', shell: 'worker', reportsDir: 'worker',
  runnerArgs: 'common',
};

/** The on/off inputs. */
const FLAGS: InputKey[] = ['redisInsecure', 'redisCluster', 'failOnFlaky', 'timings'];
/** Its value is a runner's options: `--runner-args --config x` takes '--config x'. */
const DASH_VALUES: InputKey[] = ['runnerArgs'];

export interface OptionSpec {
  name: string;
  role: Role | 'run';
  flag: boolean;
  /** Given several times, its values are joined as lines (`--tests`). */
  repeatable: boolean;
  /** Its value may start with `--` (runner-args). */
  dashValue?: boolean;
}

/** The action's inputs as options. */
export const INPUT_OPTIONS: OptionSpec[] = (Object.keys(ROLE) as InputKey[]).map((k) => ({
  name: INPUT[k],
  role: ROLE[k],
  flag: FLAGS.includes(k),
  repeatable: k === 'tests',
  dashValue: DASH_VALUES.includes(k),
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
