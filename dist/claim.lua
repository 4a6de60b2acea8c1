-- claim.lua: a worker takes its next batch under a new lease.
-- KEYS: see lib.lua (KEYS[8] is this worker's heartbeat key).  ARGV: [1] epoch, [2] worker id.
-- Returns: {'ok', lease, isolated (0|1), attempt, id...}; {'empty'} when nothing is claimable now;
--   {'wait'} while the run is seeding; {'done', state, reason} once complete or aborted;
--   {'stale'} when the epoch changed or the worker is not registered.
-- Invariant 4: a test from the requeue is claimed alone. Invariant 2: each claimed test moves from a
-- queue to held under exactly this lease. A worker that was presumed dead rejoins here.
local meta = load_meta()
if not meta or meta.epoch ~= ARGV[1] then return { 'stale' } end
if meta.state == 'complete' or meta.state == 'aborted' then return { 'done', meta.state, meta.reason } end
if meta.state ~= 'running' then return { 'wait' } end
local wid = ARGV[2]
local w = get_worker(wid)
if not w then return { 'stale' } end

local function reply_for(lease)
  local attempt = 0
  for _, v in ipairs(redis.call('HMGET', K_TESTS, unpack(lease.t))) do
    local runs = tonumber(string.match(v or '', '|(%d+)|%d+|%d+|%d+$')) or 0
    if runs > attempt then attempt = runs end
  end
  local reply = { 'ok', lease.id, lease.i and 1 or 0, attempt }
  for _, id in ipairs(lease.t) do reply[#reply + 1] = id end
  return reply
end

-- A claim sent again (its reply lost to a reconnect) gets the batch it already holds: a second lease
-- would orphan the first one's tests.
if w.lease ~= '' then
  local held = get_lease(w.lease)
  if held and held.st == 'active' and held.w == wid then return reply_for(held) end
end

local ids, isolated = {}, false
local r = redis.call('LPOP', K_REQUEUE)
if r then
  ids, isolated = { r }, true
else
  ids = redis.call('LPOP', K_QUEUE, meta.batchSize) or {}
end
redis.call('SET', K_HB, '1', 'PX', meta.hbTtl * 1000)
if #ids == 0 then
  if w.state ~= 'alive' then w.state = 'alive'; put_worker(wid, w) end
  return { 'empty' }
end

local lease = { id = tostring(redis.call('HINCRBY', K_META, 'seq', 1)), w = wid, s = now_ms(), i = isolated,
  t = ids, st = 'active' }
local vals = redis.call('HMGET', K_TESTS, unpack(ids))
local updates = {}
for i, id in ipairs(ids) do
  local st = unpack_test(id, vals[i])
  if not st then return corrupt('queued test ' .. id .. ' has no state') end
  st.where = 'h:' .. lease.id
  st.runs = st.runs + 1
  updates[#updates + 1] = id
  updates[#updates + 1] = pack_test(st)
end
redis.call('HSET', K_TESTS, unpack(updates))
put_lease(lease)
w.state, w.lease = 'alive', lease.id
put_worker(wid, w)
return reply_for(lease)
