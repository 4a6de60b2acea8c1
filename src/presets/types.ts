// What a runner preset is (src/presets/runners/ has one per runner; presets.ts gathers them): the names
// of the `runner` input, and what a preset gives the worker for one batch.
import type { HelperName } from './helpers.js';

export const RUNNERS = ['custom', 'vitest', 'jest', 'mocha', 'node-test', 'playwright', 'cucumber-js', 'pytest', 'go-test', 'rspec'] as const;
export type RunnerName = (typeof RUNNERS)[number];
export type PresetName = Exclude<RunnerName, 'custom'>;

export function isRunner(name: string): name is RunnerName {
  return (RUNNERS as readonly string[]).includes(name);
}

/** What a command is rendered from, for one batch. */
export interface BatchContext {
  tests: string[];
  /** The working directory (absolute). */
  cwd: string;
  /** Where the worker wrote the preset's helpers (src/presets/files). */
  helperDir: string;
  /** runner-args: words added to the runner's command line. */
  args: string[];
}

export interface FileListing {
  /** Whether a path relative to the working directory ('/'-separated) is a test file. */
  match: (path: string) => boolean;
  /** Folder names never entered. */
  skipDir: RegExp;
}

export interface Preset {
  /** The batch's command; it may hold {tests}, {tests-file} and {junit} (see src/worker/batch.ts). */
  command: (b: BatchContext) => string;
  /**
   * npm packages (found from the working directory up) and programs (on PATH) that the command needs;
   * `hints` says, per program, what it is for or how to get it, in the error that names it missing.
   */
  needs: { npm?: string[]; bin?: (cwd: string) => string[]; hints?: Record<string, string> };
  /** Helper files the command (or the warm runner) loads from BatchContext.helperDir. */
  helpers?: HelperName[];
  /**
   * A warm runner (src/worker/warm.ts): a helper that node runs once per worker with runner-args as its
   * arguments, and that then runs each batch sent to it, writing the same JUnit and costs files.
   */
  warm?: HelperName;
  /** The runner's words, in a batch's output, when it found no test in the files it was given. */
  noTests?: RegExp;
}
