// `npm run chaos [-- --soak] [vitest arguments]`: the chaos suite (test/chaos/*.chaos.ts) through vitest,
// or with --soak the long soak (test/chaos/*.soak.ts, see docs/reliability.md), which CI never runs.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const soak = args.includes('--soak');
const vitest = join(dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'vitest', 'vitest.mjs');
const child = spawn(process.execPath, [vitest, 'run', '--config', 'vitest.chaos.config.ts', ...args.filter((a) => a !== '--soak')], {
  stdio: 'inherit',
  env: soak ? { ...process.env, CHAOS_SOAK: '1' } : process.env,
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
