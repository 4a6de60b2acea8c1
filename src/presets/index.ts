// src/presets: the test runners shardless knows. presets.ts says, per runner, how a batch runs and what
// it needs; files/ holds the reporters and warm runners the presets load (real files, copied next to the
// bundle); discovery/ asks each runner which test files it would run; testlist.ts gathers a run's tests
// (tests, tests-file, tests-command or the runner's own listing); runner-args.ts splits runner-args.
export { PRESETS, RUNNERS, checkNeeds, isRunner, usePreset, writeHelpers, type PresetName, type RunnerName } from './presets.js';
export { listTests, type TestSources } from './testlist.js';
export { RunnerArgsError, parseRunnerArgs } from './runner-args.js';
