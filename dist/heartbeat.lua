-- heartbeat.lua: a worker says it is alive.
-- KEYS: see lib.lua (KEYS[8] is this worker's heartbeat key).
-- ARGV: [1] epoch, [2] worker id, [3] the controller's heartbeat key (same hash tag), [4] instance token.
-- Returns: {'ok', state, reason, controller alive (0|1)}; {'reclaimed', state, reason, controller alive}
--   when the worker was presumed dead, or its id was taken over by another instance (the heartbeat is
--   refused); {'stale'} when the epoch changed or the worker is unknown.
-- Invariant 3: a reclaimed worker cannot keep its lease alive by heartbeating.
local meta = load_meta()
if not meta or meta.epoch ~= ARGV[1] then return { 'stale' } end
local w = get_worker(ARGV[2])
if not w then return { 'stale' } end
local controller = redis.call('EXISTS', ARGV[3])
if w.state == 'dead' or (w.inst and ARGV[4] and w.inst ~= ARGV[4]) then return { 'reclaimed', meta.state, meta.reason, controller } end
redis.call('SET', K_HB, '1', 'PX', meta.heartbeatTtl * 1000)
return { 'ok', meta.state, meta.reason, controller }
