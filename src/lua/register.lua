-- register.lua: a worker joins the run (or rejoins after it was presumed dead).
-- KEYS: see lib.lua (KEYS[8] is this worker's heartbeat key).  ARGV: [1] worker id.
-- Returns: nil when no run exists yet (the controller has not reset it), else
--   {epoch, state, reason, heartbeatTtl, batchTimeout}.
-- Invariant 3: rejoining never revives an old lease; the worker starts with no lease.
local meta = load_meta()
if not meta then return nil end
local id = ARGV[1]
local w = get_worker(id) or { batches = 0, tests = 0, busyMs = 0, lostBatches = 0 }
w.state, w.lease = 'alive', ''
put_worker(id, w)
redis.call('SET', K_HB, '1', 'PX', meta.hbTtl * 1000)
return { meta.epoch, meta.state, meta.reason, tostring(meta.hbTtl), redis.call('HGET', K_META, 'batchTimeout') or '0' }
