-- claim.lua: a worker takes its next batch under a new lease.
-- KEYS: see lib.lua (KEYS[8] is this worker's heartbeat key).  ARGV: [1] epoch, [2] worker id,
--   [3] instance token (see register.lua).
-- Returns: {'ok', lease, isolated (0|1), attempt, id...}; {'empty'} when nothing is claimable now;
--   {'wait'} while the run is seeding; {'done', state, reason} once complete or aborted;
--   {'stale'} when the epoch changed or the worker is not registered (as this instance).
-- With meta.batchMs > 0 the batch is sized by estimated cost (see below and cost.lua), else it is
-- batchSize tests. Cost: O(batch-size).
-- The promise of adaptive batches: while another live (or expected) worker holds nothing, a claim
-- never takes every queued test, unless that is a single test.
-- Invariant 4: a test from the requeue is claimed alone. Invariant 2: each claimed test moves from a
-- queue to held under exactly this lease. A worker that was presumed dead rejoins here.
local meta = load_meta()
if not meta or meta.epoch ~= ARGV[1] then return { 'stale' } end
if meta.state == 'complete' or meta.state == 'aborted' then return { 'done', meta.state, meta.reason } end
if meta.state ~= 'running' then return { 'wait' } end
local wid = ARGV[2]
local w = get_worker(wid)
-- Another instance took this worker id over (this one was presumed dead): it rejoins.
if not w or (w.inst and ARGV[3] and w.inst ~= ARGV[3]) then return { 'stale' } end

-- The reply for a lease: its attempt is the most runs of any of its tests. states: the tests' records
-- (lib.lua load_tests), read here when not given.
local function reply_for(lease, states)
  states = states or load_tests(lease.t)
  local attempt = 0
  for i = 1, #lease.t do
    local st = states[i]
    if st and st.runs > attempt then attempt = st.runs end
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

-- A worker presumed dead that claims again rejoins: count it live again before sizing its batch.
if w.state ~= 'alive' then
  meta.live = redis.call('HINCRBY', K_META, 'live', 1)
  w.state = 'alive'
  put_worker(wid, w)
end

local startMs = start_cost(meta)
local guess = guess_ms(meta)
local now = now_ms()
local ids, isolated, cost, unknown = {}, false, 0, 0
local r = redis.call('LPOP', K_REQUEUE)
if r then
  ids, isolated = { r }, true
  cost = cost_of(redis.call('HGET', K_COSTS, r), guess)
elseif meta.batchMs > 0 then
  -- Adaptive batch, sized by estimated cost so that workers finish together (cost.lua batch_bounds):
  -- * fill: candidates longest first; one that would overshoot the target is skipped for smaller ones
  --   behind it (first fit), so a batch lands close to its target. Skipped ones go back to the head,
  --   in order.
  -- * no crumbs: what stays queued must be worth cutStarts start costs, else this batch takes it too,
  --   within the most it may hold.
  -- * while another worker holds nothing, a batch of several tests never empties the queue.
  local cand = redis.call('LRANGE', K_QUEUE, 0, meta.batchSize - 1)
  if #cand > 0 then
    local vals = hmget_many(K_COSTS, cand)
    local target, most, idle, cut, queued = batch_bounds(meta, startMs, guess, now)
    local take, skipped = {}, {}
    for k, id in ipairs(cand) do
      local c = cost_of(vals[k], guess)
      if #take == 0 or cost + c <= target then
        take[#take + 1] = k
        cost = cost + c
      else
        skipped[#skipped + 1] = k
      end
    end
    if #skipped > 0 and queued - cost < cut then
      local all = cost
      for _, k in ipairs(skipped) do all = all + cost_of(vals[k], guess) end
      if all <= most then
        for _, k in ipairs(skipped) do take[#take + 1] = k end
        table.sort(take)
        skipped, cost = {}, all
      end
    end
    if idle > 0 and #take > 1 and #skipped == 0 and #cand == redis.call('LLEN', K_QUEUE) then
      local k = table.remove(take)
      cost = cost - cost_of(vals[k], guess)
      skipped = { k }
    end
    local known = 0
    for _, k in ipairs(take) do
      ids[#ids + 1] = cand[k]
      if vals[k] then known = known + tonumber(vals[k]) else unknown = unknown + 1 end
    end
    redis.call('LTRIM', K_QUEUE, #cand, -1)
    if #skipped > 0 then
      local back = {}
      for i = #skipped, 1, -1 do back[#back + 1] = cand[skipped[i]] end
      -- LTRIM deletes an emptied list, and LPUSH would recreate it without a TTL.
      if push_many('LPUSH', K_QUEUE, back) == #back then redis.call('EXPIRE', K_QUEUE, meta.ttl) end
    end
    meta.qcost = math.max(0, meta.qcost - known)
    meta.qunk = math.max(0, meta.qunk - unknown)
  end
else
  ids = redis.call('LPOP', K_QUEUE, meta.batchSize) or {}
end
redis.call('SET', K_HB, '1', 'PX', meta.heartbeatTtl * 1000)
if #ids == 0 then
  return { 'empty' }
end

-- Only tests waiting in a queue are claimed: a stray copy of an id (never expected) is dropped rather
-- than run twice.
local popped = load_popped(isolated and K_REQUEUE or K_QUEUE, ids, meta.ttl)
local claimed, states = {}, {}
for i, id in ipairs(ids) do
  local st = popped[i]
  if st.where == 'q' or st.where == 'r' then
    claimed[#claimed + 1] = id
    states[#states + 1] = st
  end
end
if #claimed == 0 then return { 'empty' } end
-- The lease's estimated cost includes the start cost, which the batch pays too.
local lease = { id = tostring(redis.call('HINCRBY', K_META, 'seq', 1)), w = wid, s = now, i = isolated,
  t = claimed, st = 'active', c = math.floor(cost + startMs) }
local updates = {}
for i, id in ipairs(claimed) do
  local st = states[i]
  st.where = 'h:' .. lease.id
  st.runs = st.runs + 1
  updates[#updates + 1] = id
  updates[#updates + 1] = pack_test(st)
end
hset_many(K_TESTS, updates)
put_lease(lease)
inflight_add(meta, lease, 1)
redis.call('HSET', K_META, 'qcost', math.floor(meta.qcost), 'qunk', meta.qunk, 'inflight',
  string.format('%d|%d|%d', meta.inN, meta.inCost, meta.inStarts))
w.state, w.lease = 'alive', lease.id
put_worker(wid, w)
return reply_for(lease, states)
