// `shardless merge-coverage`: merges istanbul coverage JSON (jest's coverage-final.json of each worker,
// README "Reports") into one map (src/report/coverage.ts), and writes istanbul's reports of it.
import { resolve } from 'node:path';
import type { CoverageMap } from 'istanbul-lib-coverage';
import libReport from 'istanbul-lib-report';
import Clover from 'istanbul-reports/lib/clover/index.js';
import Cobertura from 'istanbul-reports/lib/cobertura/index.js';
import Html from 'istanbul-reports/lib/html/index.js';
import Json from 'istanbul-reports/lib/json/index.js';
import JsonSummary from 'istanbul-reports/lib/json-summary/index.js';
import Lcov from 'istanbul-reports/lib/lcov/index.js';
import LcovOnly from 'istanbul-reports/lib/lcovonly/index.js';
import Text from 'istanbul-reports/lib/text/index.js';
import TextSummary from 'istanbul-reports/lib/text-summary/index.js';
import { MergeCoverageError, coverageFiles, mergeCoverageFiles } from '../report/coverage.js';

/** istanbul's report names (as jest's coverageReporters names them). */
export const COVERAGE_REPORTERS = {
  clover: Clover, cobertura: Cobertura, html: Html, json: Json, 'json-summary': JsonSummary, lcov: Lcov, lcovonly: LcovOnly,
  text: Text, 'text-summary': TextSummary,
} as const;
export type CoverageReporter = keyof typeof COVERAGE_REPORTERS;
export const DEFAULT_COVERAGE_REPORTERS: CoverageReporter[] = ['json', 'lcov', 'text-summary'];

export { MergeCoverageError, coverageFiles, mergeCoverageFiles };

/** Writes the map's reports into outDir (json: outDir/coverage-final.json; lcov: lcov.info and lcov-report/). */
export function writeCoverageReports(map: CoverageMap, outDir: string, reporters: CoverageReporter[]): void {
  const context = libReport.createContext({ dir: resolve(outDir), coverageMap: map, defaultSummarizer: 'nested' });
  for (const name of reporters) new COVERAGE_REPORTERS[name]({}).execute(context);
}

const USAGE = 'Usage: shardless merge-coverage [--out <dir>] [--reporter <name>]... <file or folder>...';

export function mergeCoverageHelp(): string {
  return [
    USAGE, '',
    "Merges istanbul coverage JSON files (jest's coverage-final.json, as a runner preset's workers write them",
    'under reports-dir/jest-coverage) into one coverage report. A folder stands for every .json file under it.',
    '',
    'Options:',
    '  --out <dir>         where the reports go [default: coverage]',
    `  --reporter <name>   an istanbul report: ${Object.keys(COVERAGE_REPORTERS).join(', ')}; repeatable`,
    `                      [default: ${DEFAULT_COVERAGE_REPORTERS.join(', ')}]`,
    '  -h, --help          Show this help.',
    '',
  ].join('\n');
}

export interface MergeCoverageArgs {
  out: string;
  reporters: CoverageReporter[];
  paths: string[];
  help: boolean;
}

export function parseMergeCoverageArgs(argv: string[]): MergeCoverageArgs {
  const a: MergeCoverageArgs = { out: 'coverage', reporters: [], paths: [], help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new MergeCoverageError(`${name} needs a value`);
      return v;
    };
    if (name === '-h' || name === '--help') a.help = true;
    else if (name === '--out') a.out = value();
    else if (name === '--reporter') {
      const r = value();
      if (!(r in COVERAGE_REPORTERS)) throw new MergeCoverageError(`unknown --reporter '${r}' (one of ${Object.keys(COVERAGE_REPORTERS).join(', ')})`);
      a.reporters.push(r as CoverageReporter);
    } else if (arg === '--') {
      a.paths.push(...argv.slice(i + 1));
      break;
    } else if (arg.startsWith('-')) throw new MergeCoverageError(`unknown option '${arg}'`);
    else a.paths.push(arg);
  }
  if (!a.help && a.paths.length === 0) throw new MergeCoverageError(`no file or folder to merge\n${USAGE}`);
  if (a.reporters.length === 0) a.reporters = [...DEFAULT_COVERAGE_REPORTERS];
  return a;
}

/** The command: 0 merged, 1 nothing to merge or a bad file, 2 a command-line mistake. */
export function mergeCoverageCommand(argv: string[]): number {
  let a: MergeCoverageArgs;
  try {
    a = parseMergeCoverageArgs(argv);
  } catch (e) {
    if (!(e instanceof MergeCoverageError)) throw e;
    process.stderr.write(`shardless merge-coverage: ${e.message}\n`);
    return 2;
  }
  if (a.help) {
    process.stdout.write(mergeCoverageHelp());
    return 0;
  }
  try {
    const files = coverageFiles(a.paths);
    if (files.length === 0) throw new MergeCoverageError(`no .json file under ${a.paths.join(', ')} (was coverage on, and were the workers' reports downloaded there?)`);
    const map = mergeCoverageFiles(files);
    writeCoverageReports(map, a.out, a.reporters);
    process.stdout.write(`shardless merge-coverage: ${files.length} file${files.length === 1 ? '' : 's'} merged: ${map.files().length} source files, into ${resolve(a.out)}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof MergeCoverageError)) throw e;
    process.stderr.write(`shardless merge-coverage: ${e.message}\n`);
    return 1;
  }
}
