// The queue's wire facts for a client outside the action's bundle: the key layout and the scripts'
// sources. Built on its own into dist/queue/ (scripts/build.sh), so that bench/queue.mjs calls the
// same scripts with the same KEYS as the action instead of keeping a copy of them.
export { runKeys, scriptKeys, timingsKeys } from './keys.js';
export { PRELUDE, SCRIPT_NAMES, scriptSources } from './scripts.js';
