// Preloaded into the controller by the load scenario (NODE_OPTIONS=--require ...): at exit, after the report
// is written, records the process's peak resident set (VmHWM, kB) in $CHAOS_HWM_FILE.
'use strict';
const fs = require('node:fs');

process.on('exit', () => {
  const file = process.env.CHAOS_HWM_FILE;
  if (!file) return;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    fs.writeFileSync(file, `${m ? m[1] : 0}\n`);
  } catch {
    // nothing to record
  }
});
