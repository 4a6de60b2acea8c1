// src/action: the GitHub Action. index.ts reads the inputs (inputs.ts checks every one up front, with
// errors that name it), runs the controller or a worker, and exits with its status; version.ts is the
// package's version. Any error is one line naming its cause.
import * as core from '@actions/core';
import { readInputs } from './inputs.js';
import { runController } from '../controller/controller.js';
import { runWorker } from '../worker/worker.js';

async function main(): Promise<number> {
  const cfg = readInputs();
  return cfg.mode === 'controller' ? runController(cfg) : runWorker(cfg);
}

/** Runs the action and exits the process with its status. */
export function run(): Promise<void> {
  return main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      core.setFailed(e instanceof Error ? e.message : String(e));
      process.exit(1);
    },
  );
}
