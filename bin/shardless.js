#!/usr/bin/env node
// The `shardless` command: controller, worker and local runs (see docs/cli.md). The program is the
// bundle built by `npm run build` (scripts/build.sh) from src/cli/index.ts.
import '../dist/cli/index.js';
