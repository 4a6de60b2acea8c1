// Entry point of the action (dist/index.js): read the inputs, run the controller or a worker, and exit
// with its status. Any error is one line naming its cause.
import * as core from '@actions/core';
import { readInputs } from './inputs.js';
import { runController } from './controller.js';
import { runWorker } from './worker.js';

async function main(): Promise<number> {
  const cfg = readInputs();
  return cfg.mode === 'controller' ? runController(cfg) : runWorker(cfg);
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    core.setFailed(e instanceof Error ? e.message : String(e));
    process.exit(1);
  },
);
