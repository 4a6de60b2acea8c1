-- reap.lua: the controller's tick: reclaim the leases of workers whose heartbeat key expired, refresh
-- the controller's own heartbeat, and return the run's progress.
-- KEYS: see lib.lua (KEYS[8] is the controller's heartbeat key).
-- ARGV: [1] epoch, [2] key prefix of worker heartbeats (prefix .. worker id), [3] controller heartbeat ms.
-- Returns: 'stale', or {state, reason, total, done, queued, requeued, running, live, now ms,
--   JSON array of the workers reaped now, estimated ms of work left (queue + active leases),
--   ms until the first live worker's heartbeat key expires (-1: no live worker)}, so that the
--   controller ticks again right after it instead of up to a tick later.
-- A worker whose key expired while the controller could not see Redis is spared for heartbeat-ttl
-- (meta.tickAt: the last tick; meta.graceUntil: the end of that grace).
-- Invariant 3: a reclaimed lease is marked so that it can no longer report normally, requeue, release
--   or heartbeat. Its tests count a run without a result (requeue, or lost at max-attempts).
-- Cost: O(workers) plus O(tests held by the dead).
local meta = load_meta()
if not meta or meta.epoch ~= ARGV[1] then return 'stale' end
local ctx = new_ctx(meta, now_ms())
-- A tick after a blind spot (Redis, or the controller, unreachable for over half a heartbeat-ttl):
-- every heartbeat key may have expired together, the live workers' too, whose heartbeats could not
-- reach Redis either. A worker whose key is gone then gets heartbeat-ttl from this tick to heartbeat.
local hbMs = meta.heartbeatTtl * 1000
local tick = redis.call('HMGET', K_META, 'tickAt', 'graceUntil')
local lastTick, grace = tonumber(tick[1]), tonumber(tick[2]) or 0
if lastTick and ctx.now - lastTick > hbMs / 2 then grace = ctx.now + hbMs end
local reaped, running, live, soonest = {}, 0, 0, -1
-- Everything is read and checked first (workers, leases, held tests), then written: Redis does not
-- roll back a script that fails half-way.
local dead = {}
local all = redis.call('HGETALL', K_WORKERS)
for i = 1, #all, 2 do
  local wid = all[i]
  if wid ~= '_' then
    local w = decode_worker(wid, all[i + 1])
    local pttl = w.state == 'alive' and redis.call('PTTL', ARGV[2] .. wid) or 0
    if w.state == 'alive' and pttl == -2 and ctx.now >= grace then
      local lease = w.lease ~= '' and get_lease(w.lease) or nil
      if lease and lease.st ~= 'active' then lease = nil end
      dead[#dead + 1] = { id = wid, w = w, lease = lease, states = lease and load_tests(lease.t) }
    elseif w.state == 'alive' then
      live = live + 1
      if w.lease ~= '' then running = running + 1 end
      if pttl == -2 then pttl = grace - ctx.now end
      if pttl >= 0 and (soonest < 0 or pttl < soonest) then soonest = pttl end
    end
  end
end
for _, d in ipairs(dead) do
  local w, lease = d.w, d.lease
  w.state = 'dead'
  if lease then
    drop_lease(ctx, lease, 'lost', 'worker ' .. d.id .. ' stopped heartbeating', d.states)
    end_lease(ctx, lease, 'reclaimed')
    w.lostBatches = w.lostBatches + 1
  end
  w.lease = ''
  put_worker(d.id, w)
  reaped[#reaped + 1] = d.id
end
redis.call('HSET', K_META, 'tickAt', ctx.now, 'graceUntil', grace)
if live ~= meta.live then redis.call('HSET', K_META, 'live', live) end
flush(ctx)
redis.call('SET', K_HB, '1', 'PX', tonumber(ARGV[3]))
local left = queued_work(meta, guess_ms(meta)) + math.max(0, meta.inCost - (meta.inN * ctx.now - meta.inStarts))
return { meta.state, meta.reason, meta.total, meta.done, redis.call('LLEN', K_QUEUE),
  redis.call('LLEN', K_REQUEUE), running, live, ctx.now, cjson.encode(reaped), math.floor(left), soonest }
