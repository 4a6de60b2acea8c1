-- reset.lua: start a run afresh under a new epoch.
-- KEYS: see lib.lua (every key of the run but the heartbeat key, KEYS[8], is dropped).
-- ARGV: [1] new epoch, [2] ttl seconds, [3..] setting name, value pairs (batchSize, maxAttempts, ...)
-- Returns: 'OK'.
-- Invariant 7: every key of the run is dropped and the new epoch written, so a worker holding the old
-- epoch is refused by every other script. Invariant 6: every key written gets the run's TTL.
local epoch, ttl = ARGV[1], tonumber(ARGV[2])
redis.call('DEL', K_META, K_QUEUE, K_REQUEUE, K_TESTS, K_LEASES, K_WORKERS, K_HISTORY, K_COSTS)
redis.call('HSET', K_META, 'epoch', epoch, 'state', 'seeding', 'reason', '', 'ttl', ttl, 'total', 0,
  'done', 0, 'failed', 0, 'seq', 0, 'qcost', 0, 'live', 0, 'inflight', '0|0|0', 'createdAt', now_ms())
for i = 3, #ARGV, 2 do redis.call('HSET', K_META, ARGV[i], ARGV[i + 1]) end
redis.call('HSET', K_LEASES, '_', '')
redis.call('HSET', K_WORKERS, '_', '')
for _, k in ipairs({ K_META, K_LEASES, K_WORKERS }) do redis.call('EXPIRE', k, ttl) end
return 'OK'
