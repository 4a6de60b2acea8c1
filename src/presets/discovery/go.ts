// go-test: the ids are the import paths of the packages that have tests, as go list gives them. Of
// the args, the build tags reach go list (they decide which test files exist); the rest are go test's.
import { runListing, sortedUnique } from './run.js';

/** The -tags flags of go test args (`-tags=a,b`, `-tags a,b`, `--tags ...`). */
export function goTags(args: string[]): string[] {
  const tags: string[] = [];
  args.forEach((a, i) => {
    if (/^--?tags=/.test(a)) tags.push(a);
    else if (/^--?tags$/.test(a) && i + 1 < args.length) tags.push(a, args[i + 1]);
  });
  return tags;
}

export async function discoverGo(cwd: string, args: string[]): Promise<string[]> {
  const out = await runListing({
    runner: 'go-test', program: 'go', args: ['list', ...goTags(args), '-f', '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}', './...'], cwd,
  });
  return sortedUnique(out.stdout.split(/\r?\n/).map((l) => l.trim()));
}
