// src/presets: the test runners shardless knows. runners/ has one file per runner: how a batch runs (its
// command, the helpers it loads, what it needs); presets.ts gathers them into PRESETS and uses one for a
// worker; types.ts says what a preset is; command.ts holds the pieces commands share; helpers.ts loads
// files/, the reporters and warm runners the presets load (real files, copied next to the bundle);
// discovery/ asks each runner which test files it would run; testlist.ts gathers a run's tests (tests,
// tests-file, tests-command or the runner's own listing); listing.ts walks the working directory;
// runner-args.ts splits runner-args.
// To add a runner: runners/<name>.ts and discovery/<name>.ts (with any reporter in files/), then its name
// in RUNNERS (types.ts), PRESETS (presets.ts) and DISCOVER (discovery/index.ts).
export { REPORT_KINDS } from './command.js';
export { PRESETS, RUNNERS, checkNeeds, isRunner, usePreset, writeHelpers, type PresetName, type PresetUse, type RunnerName } from './presets.js';
export { listTests, type TestSources } from './testlist.js';
export { RunnerArgsError, parseRunnerArgs } from './runner-args.js';
