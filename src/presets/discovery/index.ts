// Discovery (controller): the runner itself lists the tests of a run, in the user's configuration,
// working directory and runner args. One module per runner; each returns test ids (paths relative to
// the working directory, '/'-separated, sorted; go-test: import paths).
import type { PresetName } from '../types.js';
import { discoverCucumber } from './cucumber.js';
import { discoverGo } from './go.js';
import { discoverJest } from './jest.js';
import { discoverMocha } from './mocha.js';
import { discoverNodeTest } from './node-test.js';
import { discoverPlaywright } from './playwright.js';
import { discoverPytest } from './pytest.js';
import { discoverRspec } from './rspec.js';
import { DiscoveryError } from './run.js';
import { discoverVitest } from './vitest.js';

export { DiscoveryError } from './run.js';

const DISCOVER: Record<PresetName, (cwd: string, args: string[]) => Promise<string[]>> = {
  vitest: discoverVitest,
  jest: discoverJest,
  mocha: discoverMocha,
  'node-test': discoverNodeTest,
  playwright: discoverPlaywright,
  'cucumber-js': discoverCucumber,
  pytest: discoverPytest,
  'go-test': discoverGo,
  rspec: discoverRspec,
};

/** The tests the runner lists in `cwd` with `args`. Throws, naming the runner, when it lists none. */
export async function discoverTests(runner: PresetName, cwd: string, args: string[] = []): Promise<string[]> {
  const ids = await DISCOVER[runner](cwd, args);
  if (ids.length === 0) throw new DiscoveryError(`runner '${runner}' lists no test in ${cwd}${args.length ? ` (runner args: ${args.join(' ')})` : ''}`);
  return ids;
}
