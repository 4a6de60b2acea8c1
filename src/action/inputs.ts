// Inputs and their validation. Every input has its default here too, so the entry point runs with
// only the INPUT_* variables it needs (tests, act, local runs). Errors name the input.
import * as core from '@actions/core';
import { resolve } from 'node:path';
import { DEFAULT_REPORTS_DIR, ENV, INPUT } from '../names.js';
import { InputError } from '../errors.js';
import { maskUrl, splitUrls } from '../queue/redis.js';
import type { CommonConfig, ControllerConfig, Fallback, Mode, WorkerConfig } from '../config.js';
import { RUNNERS, isRunner, type RunnerName } from '../presets/presets.js';
import { RunnerArgsError, parseRunnerArgs } from '../presets/runner-args.js';

export { InputError, maskUrl };

export type { CommonConfig, ControllerConfig, Fallback, Mode, WorkerConfig } from '../config.js';

export type Getter = (name: string) => string;
const defaultGetter: Getter = (name) => core.getInput(name);

/** A value as an error message shows it: on one line (control characters escaped), and not too long. */
export function shown(raw: string): string {
  const one = raw.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return one.length > 80 ? `${one.slice(0, 80)}…` : one;
}

function int(get: Getter, name: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = get(name).trim();
  if (raw === '') return def;
  if (!/^\d+$/.test(raw)) throw new InputError(`Input '${name}' must be a whole number, got '${shown(raw)}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new InputError(`Input '${name}' must be between ${min} and ${max}, got ${n}`);
  return n;
}

function bool(get: Getter, name: string, def: boolean): boolean {
  const raw = get(name).trim().toLowerCase();
  if (raw === '') return def;
  if (['true', 'yes', '1', 'on'].includes(raw)) return true;
  if (['false', 'no', '0', 'off'].includes(raw)) return false;
  throw new InputError(`Input '${name}' must be true or false, got '${shown(raw)}'`);
}

/** Returns the Redis URL after checking its form; its password is registered as a secret first. */
export function redisUrl(raw: string, env: NodeJS.ProcessEnv = process.env, cluster = false): string {
  const url = raw.trim() || env[ENV.redisUrl]?.trim() || env[ENV.redisUrlFallback]?.trim() || '';
  const urls = splitUrls(url);
  if (urls.length > 1) {
    if (!cluster) throw new InputError(`Input '${INPUT.redisUrl}' holds several URLs, which needs '${INPUT.redisCluster}: true'`);
    for (const u of urls) redisUrl(u, {}, false);
    return url;
  }
  if (!url) {
    throw new InputError(`Input '${INPUT.redisUrl}' is empty and neither ${ENV.redisUrl} nor ${ENV.redisUrlFallback} is set ` +
      '(note: secrets are not passed to workflows triggered from forks)');
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(`Input '${INPUT.redisUrl}' is not a valid URL (expected redis://[user:password@]host:port[/db])`);
  }
  if (parsed.password) {
    core.setSecret(parsed.password);
    try {
      core.setSecret(decodeURIComponent(parsed.password));
    } catch {
      throw new InputError(`Input '${INPUT.redisUrl}' has a password with a malformed %-escape`);
    }
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new InputError(`Input '${INPUT.redisUrl}' must start with redis:// or rediss://, got '${parsed.protocol}//'`);
  }
  if (!parsed.hostname) throw new InputError(`Input '${INPUT.redisUrl}' has no host`);
  // ioredis turns TLS on for a lower-case rediss:// only.
  return url.replace(/^[a-z]+:/i, (scheme) => scheme.toLowerCase());
}

function runner(get: Getter): RunnerName {
  const raw = get(INPUT.runner).trim().toLowerCase() || 'custom';
  if (!isRunner(raw)) throw new InputError(`Input '${INPUT.runner}' must be one of ${RUNNERS.join(', ')}, got '${shown(raw)}'`);
  return raw;
}

function common(get: Getter, env: NodeJS.ProcessEnv): CommonConfig {
  const mode = get(INPUT.mode).trim();
  if (mode !== 'controller' && mode !== 'worker') {
    throw new InputError(`Input '${INPUT.mode}' must be 'controller' or 'worker', got '${shown(mode)}'`);
  }
  const redisCluster = bool(get, INPUT.redisCluster, false);
  const url = redisUrl(get(INPUT.redisUrl), env, redisCluster);
  const queue = get(INPUT.queue).trim() || 'tests';
  const githubRunId = env.GITHUB_RUN_ID ?? '';
  const runAttempt = Number(env.GITHUB_RUN_ATTEMPT ?? '1') || 1;
  let runId = get(INPUT.runId).trim();
  const runIdDefaulted = runId === '';
  if (runIdDefaulted) {
    if (!githubRunId) throw new InputError(`Input '${INPUT.runId}' is required outside GitHub Actions (GITHUB_RUN_ID is not set)`);
    runId = `${githubRunId}-${runAttempt}`;
  }
  return {
    mode, redisUrl: url, redisCa: get(INPUT.redisCa).trim(), redisInsecure: bool(get, INPUT.redisInsecure, false), redisCluster,
    queue, runId, runIdDefaulted, runIdReused: !runIdDefaulted || env.ACT === 'true', runAttempt, githubRunId,
    repository: env.GITHUB_REPOSITORY ?? 'local',
    workingDirectory: resolve(get(INPUT.workingDirectory).trim() || '.'),
    runner: runner(get),
    runnerArgs: runnerArgs(get, runner(get)),
    noWorkerTimeout: int(get, INPUT.noWorkerTimeout, 600, 1),
    tests: get(INPUT.tests), testsFile: get(INPUT.testsFile).trim(), testsCommand: get(INPUT.testsCommand).trim(),
    workers: int(get, INPUT.workers, 0, 0, 10_000),
    timingsFile: get(INPUT.timingsFile).trim(),
    fallback: fallback(get),
  };
}

function fallback(get: Getter): Fallback {
  const raw = get(INPUT.fallback).trim().toLowerCase() || 'static';
  if (raw !== 'static' && raw !== 'fail') throw new InputError(`Input '${INPUT.fallback}' must be static or fail, got '${shown(raw)}'`);
  return raw;
}

/** worker-index: a place in a matrix of `workers` (0-based, as strategy.job-index). */
function workerIndex(get: Getter, workers: number): number | null {
  const raw = get(INPUT.workerIndex).trim();
  if (raw === '') return null;
  if (workers < 1) throw new InputError(`Input '${INPUT.workerIndex}' needs '${INPUT.workers}' (the size of the matrix, e.g. \${{ strategy.job-total }})`);
  return int(get, INPUT.workerIndex, 0, 0, workers - 1);
}

function workerId(given: string, env: NodeJS.ProcessEnv): string {
  // '_' is the sentinel field of the run's worker and lease hashes.
  if (given === '_') throw new InputError(`Input '${INPUT.workerId}' cannot be '_'`);
  return given || `${env.RUNNER_NAME ?? 'worker'}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

function runnerArgs(get: Getter, runner: RunnerName): string[] {
  const raw = get(INPUT.runnerArgs).trim();
  if (raw === '') return [];
  if (runner === 'custom') throw new InputError(`Input '${INPUT.runnerArgs}' is for a runner preset, and '${INPUT.runner}' is custom`);
  try {
    return parseRunnerArgs(raw);
  } catch (e) {
    if (e instanceof RunnerArgsError) throw new InputError(`Input '${INPUT.runnerArgs}' ${e.message}, in '${shown(raw)}'`);
    throw e;
  }
}

export function readInputs(get: Getter = defaultGetter, env: NodeJS.ProcessEnv = process.env): ControllerConfig | WorkerConfig {
  const c = common(get, env);
  if (c.mode === 'worker') {
    const command = get(INPUT.command).trim();
    if (command && c.runnerArgs.length > 0) {
      throw new InputError(`Input '${INPUT.runnerArgs}' goes into a runner preset's command, and this worker runs its '${INPUT.command}' (put the arguments there)`);
    }
    if (!command && c.runner === 'custom') {
      throw new InputError(`Input '${INPUT.command}' is required in worker mode (or a '${INPUT.runner}' other than custom)`);
    }
    return {
      ...c, mode: 'worker', command, junit: get(INPUT.junit).trim(),
      workerId: workerId(get(INPUT.workerId).trim(), env),
      workerIndex: workerIndex(get, c.workers),
      shell: get(INPUT.shell).trim() || 'bash',
      reportsDir: resolve(get(INPUT.reportsDir).trim() || DEFAULT_REPORTS_DIR),
    };
  }
  return {
    ...c, mode: 'controller',
    batchSize: int(get, INPUT.batchSize, 10, 1, 10_000),
    batchDuration: get(INPUT.batchDuration).trim().toLowerCase() === 'auto' ? 'auto' : int(get, INPUT.batchDuration, 0),
    maxAttempts: int(get, INPUT.maxAttempts, 3, 1, 100),
    retries: int(get, INPUT.retries, 0, 0, 100),
    batchTimeout: int(get, INPUT.batchTimeout, 0),
    heartbeatTtl: int(get, INPUT.heartbeatTtl, 30, 1),
    timeout: int(get, INPUT.timeout, 0),
    maxFailures: int(get, INPUT.maxFailures, 0),
    failOnFlaky: bool(get, INPUT.failOnFlaky, false),
    timings: bool(get, INPUT.timings, true),
    timingsOutput: get(INPUT.timingsOutput).trim(),
    ttl: int(get, INPUT.ttl, 86400, 60),
    reportOutput: get(INPUT.reportOutput).trim(),
    junitOutput: get(INPUT.junitOutput).trim(),
  };
}
