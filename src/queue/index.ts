// src/queue: everything of a run that lives in Redis, and nothing above it (it imports no controller,
// worker or report code). The contract it keeps is docs/protocol.md.
//   keys.ts     the key layout: a run's keys under one hash tag, a queue's stored timings
//   lua/        the scripts, one per operation; lib.lua (shared helpers, the Lua side of the records)
//               and cost.lua (the run's cost model) are prepended to each
//   scripts.ts  loads lua/ into an ioredis client (EVALSHA, EVAL on NOSCRIPT)
//   queue.ts    the typed calls of the scripts, one round trip each
//   records.ts  the run's records read back (test record decode, chunked reads, readRun)
//   redis.ts    connecting to Redis (TLS, cluster, the reconnect window)
//   rerun.ts    a re-run attempt: the previous attempt's keys, verdict and the tests to run again
//   wire.ts     what a client outside the bundle needs (the bench imports it from dist/queue)
export { runKeys, scriptKeys, timingsKeys, type RunKeys } from './keys.js';
export { Queue, type ClaimReply, type HeartbeatReply, type Progress, type RegisterClash, type RegisterReply, type ReportReply, type RunSettings } from './queue.js';
export { decodeTest, finalOf, hmgetChunked, readTests, type TestRecord } from './records.js';
export { RedisUnreachableError, closeRedis, connectRedis, gaveUp, maskUrl, splitUrls, tlsOptions, type RedisClient, type RedisConfig } from './redis.js';
export { previousAttemptPassed, previousKeys, testsToRerun } from './rerun.js';
