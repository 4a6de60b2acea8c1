// node --test has no listing of its own: its default patterns, for the `node` on the PATH (the one
// that runs the batches). Node 20: **/*.test.?(c|m)js, **/*-test.?(c|m)js, **/*_test.?(c|m)js,
// **/test-*.?(c|m)js, **/test.?(c|m)js and **/test/**/*.?(c|m)js, node_modules skipped. A Node that
// strips types (22.18+, 23.6+, or flagged: process.features.typescript) also runs the same names ending
// in .ts, .mts and .cts.
import { posix } from 'node:path';
import { JS_SKIP, listFiles } from '../listing.js';
import { DiscoveryError, runListing } from './run.js';

const ASK = 'JSON.stringify({ node: process.versions.node, typescript: Boolean(process.features && process.features.typescript) })';

/** Whether a path relative to the working directory ('/'-separated) is one of node --test's defaults. */
export function nodeTestMatcher(typescript: boolean): (path: string) => boolean {
  const ext = typescript ? '\\.[cm]?[jt]s$' : '\\.[cm]?js$';
  const name = new RegExp(`(^test|[._-]test|^test-.*)${ext}`);
  const inTestDir = new RegExp(`(^|/)test/.*${ext}`);
  return (p) => name.test(posix.basename(p)) || inTestDir.test(p);
}

/** Of the args, those that turn type stripping on or off (a file argument must not run here). */
const STRIP_FLAG = /^--(no-)?experimental-(strip|transform)-types$/;

export async function discoverNodeTest(cwd: string, args: string[]): Promise<string[]> {
  const out = await runListing({ runner: 'node-test', program: 'node', args: [...args.filter((a) => STRIP_FLAG.test(a)), '-p', ASK], cwd });
  let typescript: boolean;
  try {
    typescript = (JSON.parse(out.stdout) as { typescript: boolean }).typescript;
  } catch {
    throw new DiscoveryError(`runner 'node-test' could not list the tests: 'node -p' printed ${JSON.stringify(out.stdout.slice(0, 200))}`);
  }
  // (.git holds no test file: not worth walking.)
  return listFiles({ match: nodeTestMatcher(typescript), skipDir: JS_SKIP }, cwd);
}
