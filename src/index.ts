// The action's entry (dist/index.js). The layout of src/: action and cli on top (the two ways in), then
// controller and worker, then queue (Redis), sizing (the cost model), presets (runners) and report;
// config.ts, names.ts, types.ts and errors.ts are the vocabulary they share.
import { run } from './action/index.js';

void run();
