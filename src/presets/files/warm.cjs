'use strict';
// Written by shardless (runner presets): the loop of a warm runner, a long-lived process that the worker
// starts once (leader of its own process group) and that runs one batch per message on its IPC channel:
//   worker -> runner  { type: 'batch', batch, tests: [ids], env: { SHARDLESS_*: ... } }
//   runner -> worker  { type: 'done', batch, exitCode, retire }   (exitCode 0: every test passed)
// `retire`: the runner's memory grew past MAX_RSS_BYTES (a leak across batches); the worker ends it
// and starts a new one for its next batch.
// Batches run one at a time, in order. The worker kills the whole group on a timeout, a cancel or its
// own exit, and starts a new runner for its next batch; a runner whose worker is gone exits.

const MAX_RSS_BYTES = 1536 * 1024 * 1024;

/**
 * Serves batches: `init()` once (its failure ends the process with 1, which the worker reports for the
 * batch), then `runBatch(message)` for each batch, returning the exit code.
 */
function serve(init, runBatch) {
  let queue = Promise.resolve(init()).catch((e) => {
    process.stderr.write(`shardless warm runner: cannot start: ${(e && e.stack) || e}\n`);
    process.exit(1);
  });
  process.on('message', (m) => {
    if (!m || m.type !== 'batch') return;
    queue = queue.then(async () => {
      // This batch's SHARDLESS_* only: one the batch leaves unset (SHARDLESS_TESTS when too large) goes.
      for (const k of Object.keys(process.env)) if (k.startsWith('SHARDLESS_')) delete process.env[k];
      Object.assign(process.env, m.env);
      let exitCode = 1;
      try {
        exitCode = await runBatch(m);
      } catch (e) {
        process.stderr.write(`shardless warm runner: batch ${m.batch} failed to run: ${(e && e.stack) || e}\n`);
      }
      process.send({ type: 'done', batch: m.batch, exitCode, retire: process.memoryUsage().rss > MAX_RSS_BYTES });
    });
  });
  process.on('disconnect', () => process.exit(0));
}

module.exports = { serve };
