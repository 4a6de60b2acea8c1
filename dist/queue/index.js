import { createRequire as __WEBPACK_EXTERNAL_createRequire } from "module";
/******/ var __webpack_modules__ = ({});
/************************************************************************/
/******/ // The module cache
/******/ var __webpack_module_cache__ = {};
/******/ 
/******/ // The require function
/******/ function __nccwpck_require__(moduleId) {
/******/ 	// Check if module is in cache
/******/ 	var cachedModule = __webpack_module_cache__[moduleId];
/******/ 	if (cachedModule !== undefined) {
/******/ 		return cachedModule.exports;
/******/ 	}
/******/ 	// Create a new module (and put it into the cache)
/******/ 	var module = __webpack_module_cache__[moduleId] = {
/******/ 		// no module.id needed
/******/ 		// no module.loaded needed
/******/ 		exports: {}
/******/ 	};
/******/ 
/******/ 	// Execute the module function
/******/ 	var threw = true;
/******/ 	try {
/******/ 		__webpack_modules__[moduleId](module, module.exports, __nccwpck_require__);
/******/ 		threw = false;
/******/ 	} finally {
/******/ 		if(threw) delete __webpack_module_cache__[moduleId];
/******/ 	}
/******/ 
/******/ 	// Return the exports of the module
/******/ 	return module.exports;
/******/ }
/******/ 
/************************************************************************/
/******/ /* webpack/runtime/asset-relocator-loader */
/******/ if (typeof __nccwpck_require__ !== 'undefined') __nccwpck_require__.ab = decodeURIComponent(new URL('.', import.meta.url).pathname).slice(import.meta.url.match(/^file:\/\/\/\w:/) ? 1 : 0, -1) + "/";
/******/ 
/******/ /* webpack/runtime/define property getters */
/******/ (() => {
/******/ 	// define getter functions for harmony exports
/******/ 	__nccwpck_require__.d = (exports, definition) => {
/******/ 		for(var key in definition) {
/******/ 			if(__nccwpck_require__.o(definition, key) && !__nccwpck_require__.o(exports, key)) {
/******/ 				Object.defineProperty(exports, key, { enumerable: true, get: definition[key] });
/******/ 			}
/******/ 		}
/******/ 	};
/******/ })();
/******/ 
/******/ /* webpack/runtime/hasOwnProperty shorthand */
/******/ (() => {
/******/ 	__nccwpck_require__.o = (obj, prop) => (Object.prototype.hasOwnProperty.call(obj, prop))
/******/ })();
/******/ 
/************************************************************************/
var __webpack_exports__ = {};

// EXPORTS
__nccwpck_require__.d(__webpack_exports__, {
  Wh: () => (/* reexport */ PRELUDE),
  DF: () => (/* reexport */ SCRIPT_NAMES),
  km: () => (/* reexport */ runKeys),
  _T: () => (/* reexport */ scriptKeys),
  WM: () => (/* reexport */ scriptSources),
  MB: () => (/* reexport */ timingsKeys)
});

;// CONCATENATED MODULE: ./src/queue/keys.ts
// The Redis key layout (docs/protocol.md#key-layout): a run's keys, and a queue's stored timings. Every
// key of a run shares one hash tag, so each Lua script touches a single slot (Redis Cluster) and runs
// of different repositories or queues never meet.
const keys_escape = (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
/**
 * A queue or run name as a part of the hash tag. A hash tag ends at the first `}`, and `/` separates
 * the parts, so both (and `%`, the escape itself) are percent-encoded: queue `a/b` with run `c` and
 * queue `a` with run `b/c` must never share a key.
 */
function tagPart(s) {
    return s.replace(/[%/{}]/g, keys_escape);
}
/** The repository as a part of the hash tag: `owner/name`, its one `/` kept (ACL key patterns use it). */
function repoPart(s) {
    return s.replace(/[%{}]/g, keys_escape);
}
function runKeys(repository, queue, run) {
    const prefix = `shardless:{${repoPart(repository)}/${tagPart(queue)}/${tagPart(run)}}:`;
    return {
        prefix,
        meta: `${prefix}meta`,
        queue: `${prefix}queue`,
        requeue: `${prefix}requeue`,
        tests: `${prefix}tests`,
        leases: `${prefix}leases`,
        workers: `${prefix}workers`,
        history: `${prefix}history`,
        costs: `${prefix}costs`,
        hbPrefix: `${prefix}hb:`,
        controller: `${prefix}controller`,
    };
}
/** The stored timings of a queue (src/sizing/timings.ts), kept outside the run's keys: they outlive its runs. */
function timingsKeys(repository, queue) {
    // A literal prefix no run key has (runs are shardless:{...}), so no run id can collide with it.
    const tag = `{${repoPart(repository)}/${tagPart(queue)}}`;
    return { costs: `shardless:timings:${tag}:costs`, meta: `shardless:timings:${tag}:meta` };
}
/** The KEYS argument of a script (the order lib.lua names them), with the given heartbeat key. */
function scriptKeys(k, hb) {
    return [k.meta, k.queue, k.requeue, k.tests, k.leases, k.workers, k.history, hb, k.costs];
}

;// CONCATENATED MODULE: external "node:fs"
const external_node_fs_namespaceObject = __WEBPACK_EXTERNAL_createRequire(import.meta.url)("node:fs");
;// CONCATENATED MODULE: ./src/queue/scripts.ts
// Loads the Lua scripts (src/queue/lua; ncc copies each file named below into dist/) into an ioredis client.
// defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT, so a restarted Redis recovers.

const SCRIPT_NAMES = ['reset', 'seed', 'start', 'register', 'claim', 'report', 'heartbeat', 'release', 'reap', 'abort', 'verdict'];
// One literal URL per file, so that ncc sees each asset and rewrites its path in the bundle.
const FILES = {
    lib: __nccwpck_require__.ab + "lib.lua",
    cost: __nccwpck_require__.ab + "cost.lua",
    reset: __nccwpck_require__.ab + "reset.lua",
    seed: __nccwpck_require__.ab + "seed.lua",
    start: __nccwpck_require__.ab + "start.lua",
    register: __nccwpck_require__.ab + "register.lua",
    claim: __nccwpck_require__.ab + "claim.lua",
    report: __nccwpck_require__.ab + "report.lua",
    heartbeat: __nccwpck_require__.ab + "heartbeat.lua",
    release: __nccwpck_require__.ab + "release.lua",
    reap: __nccwpck_require__.ab + "reap.lua",
    abort: __nccwpck_require__.ab + "abort.lua",
    verdict: __nccwpck_require__.ab + "verdict.lua",
};
/** Helpers prepended, in this order, to every script: shared helpers, then the run's cost model. */
const PRELUDE = ['lib', 'cost'];
function source(name) {
    return (0,external_node_fs_namespaceObject.readFileSync)(FILES[name], 'utf8');
}
let cached;
/** lib.lua and cost.lua are prepended to each script: one copy of the shared helpers, one file per operation. */
function scriptSources() {
    if (!cached) {
        const prelude = PRELUDE.map(source).join('\n');
        cached = new Map(SCRIPT_NAMES.map((n) => [n, `${prelude}\n${source(n)}`]));
    }
    return cached;
}
function defineScripts(redis) {
    for (const [name, lua] of scriptSources()) {
        if (!(`sl_${name}` in redis))
            redis.defineCommand(`sl_${name}`, { numberOfKeys: 9, lua });
    }
    return redis;
}

;// CONCATENATED MODULE: ./src/queue/wire.ts
// The queue's wire facts for a client outside the action's bundle: the key layout and the scripts'
// sources. Built on its own into dist/queue/ (scripts/build.sh), so that bench/queue.mjs calls the
// same scripts with the same KEYS as the action instead of keeping a copy of them.



var __webpack_exports__PRELUDE = __webpack_exports__.Wh;
var __webpack_exports__SCRIPT_NAMES = __webpack_exports__.DF;
var __webpack_exports__runKeys = __webpack_exports__.km;
var __webpack_exports__scriptKeys = __webpack_exports__._T;
var __webpack_exports__scriptSources = __webpack_exports__.WM;
var __webpack_exports__timingsKeys = __webpack_exports__.MB;
export { __webpack_exports__PRELUDE as PRELUDE, __webpack_exports__SCRIPT_NAMES as SCRIPT_NAMES, __webpack_exports__runKeys as runKeys, __webpack_exports__scriptKeys as scriptKeys, __webpack_exports__scriptSources as scriptSources, __webpack_exports__timingsKeys as timingsKeys };
