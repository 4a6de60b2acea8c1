-- register.lua: a worker joins the run (or rejoins after it was presumed dead).
-- KEYS: see lib.lua (KEYS[8] is this worker's heartbeat key).
-- ARGV: [1] worker id, [2] instance token (random per worker process; kept in the worker's record).
-- Returns: nil when no run exists yet (the controller has not reset it); {'clash', ms until the
--   heartbeat key expires} when another live instance holds the worker id (nothing is written); else
--   {epoch, state, reason, heartbeatTtl, batchTimeout, noWorkerTimeout}.
-- Invariant 3: rejoining never revives an old lease; the worker starts with no lease, and a lease it
-- still held (a restarted process with the same worker id) ends without a result.
local meta = load_meta()
if not meta then return nil end
local id, inst = ARGV[1], ARGV[2] or ''
local w = get_worker(id) or { batches = 0, tests = 0, busyMs = 0, lostBatches = 0, lease = '' }
-- Another instance whose heartbeat key is still there may be alive (two jobs given one worker-id):
-- taking its id over would fence every batch of the other, in turn. The caller waits to see whether
-- the key runs out (a previous process, dead) or is refreshed (a live twin: it takes another id).
if inst ~= '' and (w.inst or inst) ~= inst and w.state == 'alive' then
  local pttl = redis.call('PTTL', K_HB)
  if pttl ~= -2 then return { 'clash', tostring(pttl) } end
end
-- A worker that registers again while its record holds an active lease was restarted (or, the same
-- instance, rejoins after Redis lost its last writes: restarted from older data): that batch is lost.
local how = (w.inst and w.inst == inst) and ' rejoined' or ' restarted'
if inst ~= '' then w.inst = inst end
local lease = w.lease ~= '' and get_lease(w.lease) or nil
if lease and lease.st == 'active' and lease.w == id then
  local ctx = new_ctx(meta, now_ms())
  drop_lease(ctx, lease, 'lost', 'worker ' .. id .. how)
  end_lease(ctx, lease, 'released')
  w.lostBatches = w.lostBatches + 1
  flush(ctx)
end
-- Counted as live at once, so that the first claims of a starting matrix share the queue fairly
-- (the controller's reap keeps the exact count).
if w.state ~= 'alive' then redis.call('HINCRBY', K_META, 'live', 1) end
w.state, w.lease = 'alive', ''
put_worker(id, w)
redis.call('SET', K_HB, '1', 'PX', meta.heartbeatTtl * 1000)
local m = redis.call('HMGET', K_META, 'batchTimeout', 'noWorkerTimeout')
return { meta.epoch, meta.state, meta.reason, tostring(meta.heartbeatTtl), m[1] or '0', m[2] or '0' }
