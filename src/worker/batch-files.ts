// What a batch is given before it runs: its own fresh folder, the tests file, the {junit} and costs paths
// (unique, and not there yet), and the command's environment (the SHARDLESS_* variables).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CMD_ENV } from '../names.js';
import { withoutInputs } from '../env.js';
import { fitsExec } from './process.js';
import type { BatchSetup } from './batch.js';

export interface BatchFiles {
  /** The batch's own fresh folder. */
  dir: string;
  testsFile: string;
  junitPath: string;
  /** Where a preset's reporter writes `{ "<file>": ms }`, the cost of each file as the runner measured it. */
  costsPath: string;
  /** The command's environment: the base one without INPUT_*, and the SHARDLESS_* variables. */
  env: NodeJS.ProcessEnv;
}

/** A name for a report that actions/upload-artifact takes (no ':' and such): a batch's is `<worker>-batch-<id>-…`. */
export function reportNameOf(part: string): string {
  return part.replace(/[^\w.-]/g, '_');
}

/** Makes the batch's fresh folder (so the {junit} and costs paths are unique and not there yet) and its environment. */
export async function batchFiles(s: BatchSetup): Promise<BatchFiles> {
  const tmpDir = path.resolve(s.tmpDir);
  await fs.mkdir(tmpDir, { recursive: true });
  const dir = await fs.mkdtemp(path.join(tmpDir, `batch-${reportNameOf(s.batchId).slice(0, 40)}-`));
  const testsFile = path.join(dir, 'tests.txt');
  const junitPath = path.join(dir, 'junit.xml');
  const costsPath = path.join(dir, 'costs.json');
  await fs.writeFile(testsFile, s.tests.map((t) => `${t}\n`).join(''));
  const env: NodeJS.ProcessEnv = {
    ...withoutInputs(s.env ?? process.env),
    [CMD_ENV.tests]: s.tests.join('\n'),
    [CMD_ENV.testsFile]: testsFile,
    [CMD_ENV.junit]: junitPath,
    [CMD_ENV.costs]: costsPath,
    [CMD_ENV.worker]: s.workerId,
    [CMD_ENV.batch]: s.batchId,
    [CMD_ENV.isolated]: s.isolated ? 'true' : 'false',
    [CMD_ENV.attempt]: String(s.attempt),
  };
  if (s.reportsDir) {
    env[CMD_ENV.reportsDir] = path.resolve(s.reportsDir);
    // Unique per worker and batch, and a file name that actions/upload-artifact takes (no ':' and such).
    env[CMD_ENV.reportName] = `${reportNameOf(s.workerId)}-${reportNameOf(path.basename(dir))}`;
  }
  // A huge batch would make every spawn fail; the ids are still in the tests file.
  if (!fitsExec(`${CMD_ENV.tests}=${env[CMD_ENV.tests]}`)) {
    delete env[CMD_ENV.tests];
    process.stderr.write(`shardless: ${CMD_ENV.tests} too large for the environment, left unset; use ${CMD_ENV.testsFile}\n`);
  }
  return { dir, testsFile, junitPath, costsPath, env };
}
