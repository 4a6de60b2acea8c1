-- reap.lua: the controller's tick: reclaim the leases of workers whose heartbeat key expired, refresh
-- the controller's own heartbeat, and return the run's progress.
-- KEYS: see lib.lua (KEYS[8] is the controller's heartbeat key).
-- ARGV: [1] epoch, [2] key prefix of worker heartbeats (prefix .. worker id), [3] controller heartbeat ms.
-- Returns: 'stale', or {state, reason, total, done, queued, requeued, running, live, now ms,
--   JSON array of the workers reaped now, estimated ms of work left (queue + active leases),
--   ms until the first live worker's heartbeat key expires (-1: no live worker)}, so that the
--   controller ticks again right after it instead of up to a tick later.
-- Invariant 3: a reclaimed lease is marked so that it can no longer report normally, requeue, release
--   or heartbeat. Its tests count a run without a result (requeue, or lost at max-attempts).
-- Cost: O(workers) plus O(tests held by the dead).
local meta = load_meta()
if not meta or meta.epoch ~= ARGV[1] then return 'stale' end
local ctx = new_ctx(meta, now_ms())
local reaped, running, live, soonest = {}, 0, 0, -1
local all = redis.call('HGETALL', K_WORKERS)
for i = 1, #all, 2 do
  local wid = all[i]
  if wid ~= '_' then
    local w = decode_worker(wid, all[i + 1])
    local pttl = w.state == 'alive' and redis.call('PTTL', ARGV[2] .. wid) or 0
    if w.state == 'alive' and pttl == -2 then
      w.state = 'dead'
      local lease = w.lease ~= '' and get_lease(w.lease) or nil
      if lease and lease.st == 'active' then
        drop_lease(ctx, lease, 'lost', 'worker ' .. wid .. ' stopped heartbeating')
        end_lease(ctx, lease, 'reclaimed')
        w.lostBatches = w.lostBatches + 1
      end
      w.lease = ''
      put_worker(wid, w)
      reaped[#reaped + 1] = wid
    elseif w.state == 'alive' then
      live = live + 1
      if w.lease ~= '' then running = running + 1 end
      if pttl >= 0 and (soonest < 0 or pttl < soonest) then soonest = pttl end
    end
  end
end
if live ~= meta.live then redis.call('HSET', K_META, 'live', live) end
flush(ctx)
redis.call('SET', K_HB, '1', 'PX', tonumber(ARGV[3]))
local left = queued_work(meta, guess_ms(meta)) + math.max(0, meta.inCost - (meta.inN * ctx.now - meta.inStarts))
return { meta.state, meta.reason, meta.total, meta.done, redis.call('LLEN', K_QUEUE),
  redis.call('LLEN', K_REQUEUE), running, live, ctx.now, cjson.encode(reaped), math.floor(left), soonest }
