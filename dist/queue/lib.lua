-- lib.lua: helpers prepended to every shardless script (see src/queue/scripts.ts). Not a script by itself.
-- The protocol the scripts keep, and the invariants their headers cite by number: docs/protocol.md.
--
-- Every script takes the same KEYS, all under one hash tag so each script is single-slot (their
-- records: docs/protocol.md#records):
--   KEYS[1] meta     hash: the run's state, settings, counters and times; what adaptive batches need,
--                    kept so that a claim sizes its batch in O(batch)
--   KEYS[2] queue    list: primary queue, claimed from the head
--   KEYS[3] requeue  list: tests to re-run alone, claimed before the primary queue
--   KEYS[4] tests    hash: test id -> its record "where|runs|attempts|fails|passes" (unpack_test)
--   KEYS[5] leases   hash: lease id -> JSON {w, s, e, i, t, st, c, f} (st: active|done|reclaimed|released)
--   KEYS[6] workers  hash: worker id -> JSON {state, lease, batches, tests, busyMs, lostBatches, inst}
--   KEYS[7] history  list: JSON of every run of every test {t, w, b, i, o, d, m, s, e, f, l, j, c}
--   KEYS[8] hb       string with a TTL: this worker's heartbeat (the controller's for controller scripts)
--   KEYS[9] costs    hash: test id -> estimated cost in ms (seeded from the queue's timings); a test
--                    no earlier run measured has no field here (its cost is the run's guess: cost.lua)
-- The leases and workers hashes keep a sentinel field "_" so they never vanish and lose their TTL.

local K_META, K_QUEUE, K_REQUEUE, K_TESTS, K_LEASES, K_WORKERS, K_HISTORY, K_HB, K_COSTS =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function corrupt(what)
  return redis.error_reply('shardless: corrupt run state in Redis (' .. what .. '); reset the run')
end

-- The same error, raised from anywhere in a script. A string, not error(corrupt(...)): before 7.0,
-- Redis's error handler concatenates the raised value, so a table loses the message.
local function fail_corrupt(what)
  error('shardless: corrupt run state in Redis (' .. what .. '); reset the run', 0)
end

-- A test's record in K_TESTS, "where|runs|attempts|fails|passes": the one decoder and encoder on this
-- side of the wire (src/queue/records.ts reads it on the other). A corrupt record fails the script.
local function unpack_test(id, v)
  if not v then return nil end
  local w, r, a, f, p = string.match(v, '^(.+)|(%d+)|(%d+)|(%d+)|(%d+)$')
  if not w then fail_corrupt('test ' .. id) end
  return { where = w, runs = tonumber(r), attempts = tonumber(a), fails = tonumber(f), passes = tonumber(p) }
end

local function pack_test(t)
  return t.where .. '|' .. t.runs .. '|' .. t.attempts .. '|' .. t.fails .. '|' .. t.passes
end

local function decode(what, v)
  local ok, r = pcall(cjson.decode, v)
  if not ok or type(r) ~= 'table' then fail_corrupt(what) end
  return r
end

-- The meta fields every script reads (load_meta), by name, each with its value when the field is not
-- set: a number field is read as a number, a string field as it is. epoch and state have none (a
-- run without an epoch was never reset).
local META_DEFAULTS = {
  reason = '', maxAttempts = 3, retries = 0, maxFailures = 0, heartbeatTtl = 30, ttl = 86400, total = 0,
  done = 0, failed = 0, batchSize = 10, batchMs = 0, share = 0.5, startMs = 0, live = 0, qcost = 0,
  qunk = 0, inflight = '', workers = 0, cutStarts = 0, minStarts = 1, slackMs = 0, guessMs = 0,
  fit = '', gobs = '', cobs = '', jfit = '',
}
local META_FIELDS = { 'epoch', 'state' }
for f in pairs(META_DEFAULTS) do META_FIELDS[#META_FIELDS + 1] = f end
table.sort(META_FIELDS)

-- The run's meta, read in one HMGET, by field name; nil when the run was never reset (no meta).
-- inflight "n|cost|starts" is unpacked into inN, inCost and inStarts.
local function load_meta()
  local vals = redis.call('HMGET', K_META, unpack(META_FIELDS))
  local meta = {}
  for i, f in ipairs(META_FIELDS) do
    local v, default = vals[i], META_DEFAULTS[f]
    if type(default) == 'number' then meta[f] = tonumber(v) or default
    elseif v then meta[f] = v
    else meta[f] = default end
  end
  if not meta.epoch then return nil end
  local n, c, s = string.match(meta.inflight, '^(%d+)|(%d+)|(%d+)$')
  meta.inN, meta.inCost, meta.inStarts = tonumber(n) or 0, tonumber(c) or 0, tonumber(s) or 0
  return meta
end

-- The active leases' aggregates move with every lease that starts or ends (claim, report, reap, release).
local function inflight_add(meta, lease, sign)
  meta.inN = math.max(0, meta.inN + sign)
  meta.inCost = math.max(0, meta.inCost + sign * (lease.c or 0))
  meta.inStarts = math.max(0, meta.inStarts + sign * lease.s)
  meta.inflightDirty = true
end

-- Variadic commands get their arguments from unpack, which fails near 8,000 values, and Redis does not
-- roll back a script that fails half-way: every call with a list of any size goes through these, in
-- chunks (CHUNK is even, so a field, value pair never splits).
local CHUNK = 1000

-- HMGET of any number of fields: the values in order (false for a missing field).
local function hmget_many(key, fields)
  local out = {}
  for i = 1, #fields, CHUNK do
    local part = redis.call('HMGET', key, unpack(fields, i, math.min(i + CHUNK - 1, #fields)))
    for j = 1, #part do out[i + j - 1] = part[j] end
  end
  return out
end

-- HSET of a flat list of field, value pairs.
local function hset_many(key, flat)
  for i = 1, #flat, CHUNK do redis.call('HSET', key, unpack(flat, i, math.min(i + CHUNK - 1, #flat))) end
end

-- RPUSH or LPUSH of any number of items, as one command would push them; the list's length after.
local function push_many(cmd, key, items)
  local n = 0
  for i = 1, #items, CHUNK do n = redis.call(cmd, key, unpack(items, i, math.min(i + CHUNK - 1, #items))) end
  return n
end

-- Pushes to a list that may not exist; a freshly created list gets the run's TTL.
local function push_ttl(key, items, ttl)
  if #items == 0 then return end
  if push_many('RPUSH', key, items) == #items then redis.call('EXPIRE', key, ttl) end
end

-- A batch of changes to tests, applied by flush() in a handful of commands whatever the batch size.
local function new_ctx(meta, now)
  return { meta = meta, now = now, tests = {}, requeue = {}, history = {}, finals = {}, nfinal = 0, nfailed = 0 }
end

-- c: the whole cost the runner measured (a number, else dropped: it feeds the timings, never a decision).
local function record(ctx, id, lease, outcome, dur, msg, file, line, j, c)
  if type(c) ~= 'number' or c < 0 then c = nil end
  ctx.history[#ctx.history + 1] = cjson.encode({ t = id, w = lease.w, b = lease.id, i = lease.i, o = outcome,
    d = dur or 0, m = msg or '', s = lease.s, e = ctx.now, f = file, l = line, j = j, c = c })
end

local function finalize(ctx, id, st, status)
  st.where = status
  ctx.finals[id] = status
  ctx.nfinal = ctx.nfinal + 1
  if status == 'failed' then ctx.nfailed = ctx.nfailed + 1 end
end

local function to_requeue(ctx, id, st)
  st.where = 'r'
  ctx.requeue[#ctx.requeue + 1] = id
end

-- A run that produced a result (passed, failed or skipped).
local function apply_result(ctx, id, st, lease, res)
  local o = res.o
  record(ctx, id, lease, o, res.d, res.m, res.f, res.l, res.j, res.c)
  if o == 'passed' then
    st.passes = st.passes + 1
    finalize(ctx, id, st, st.fails > 0 and 'flaky' or 'passed')
  elseif o == 'skipped' then
    finalize(ctx, id, st, 'skipped')
  else
    st.fails = st.fails + 1
    if st.fails <= ctx.meta.retries then to_requeue(ctx, id, st)
    else finalize(ctx, id, st, st.passes > 0 and 'flaky' or 'failed') end
  end
  ctx.tests[#ctx.tests + 1] = id
  ctx.tests[#ctx.tests + 1] = pack_test(st)
end

-- A run without a result: lost, timeout, or split (several tests failed without per-test results).
local function apply_noresult(ctx, id, st, lease, outcome, msg)
  record(ctx, id, lease, outcome, 0, msg or '')
  if outcome == 'split' then
    to_requeue(ctx, id, st)
  else
    st.attempts = st.attempts + 1
    if st.attempts >= ctx.meta.maxAttempts then finalize(ctx, id, st, 'lost')
    else to_requeue(ctx, id, st) end
  end
  ctx.tests[#ctx.tests + 1] = id
  ctx.tests[#ctx.tests + 1] = pack_test(st)
end

-- Writes the changes and moves the run to complete (every test final) or aborted (max-failures).
local function flush(ctx)
  local meta = ctx.meta
  if meta.inflightDirty then
    redis.call('HSET', K_META, 'inflight', string.format('%d|%d|%d', meta.inN, meta.inCost, meta.inStarts))
  end
  hset_many(K_TESTS, ctx.tests)
  push_ttl(K_REQUEUE, ctx.requeue, meta.ttl)
  push_ttl(K_HISTORY, ctx.history, meta.ttl)
  if ctx.nfinal > 0 then
    meta.done = redis.call('HINCRBY', K_META, 'done', ctx.nfinal)
    if ctx.nfailed > 0 then meta.failed = redis.call('HINCRBY', K_META, 'failed', ctx.nfailed) end
    if meta.state == 'running' then
      if meta.done >= meta.total then
        redis.call('HSET', K_META, 'state', 'complete', 'completedAt', ctx.now)
        meta.state = 'complete'
      elseif meta.maxFailures > 0 and meta.failed >= meta.maxFailures then
        meta.reason = 'max-failures reached: ' .. meta.failed .. ' tests failed'
        redis.call('HSET', K_META, 'state', 'aborted', 'reason', meta.reason, 'completedAt', ctx.now)
        meta.state = 'aborted'
      end
    end
  end
end

-- A worker's record, checked: scripts do arithmetic on it after writing, so a bad one must fail first.
local function decode_worker(id, v)
  local w = decode('worker ' .. id, v)
  if type(w.state) ~= 'string' or type(w.lease) ~= 'string' or type(w.batches) ~= 'number' or type(w.tests) ~= 'number'
    or type(w.busyMs) ~= 'number' or type(w.lostBatches) ~= 'number' then fail_corrupt('worker ' .. id) end
  return w
end

local function get_worker(id)
  local v = redis.call('HGET', K_WORKERS, id)
  if not v then return nil end
  return decode_worker(id, v)
end

local function put_worker(id, w)
  redis.call('HSET', K_WORKERS, id, cjson.encode(w))
end

local function get_lease(id)
  local v = redis.call('HGET', K_LEASES, id)
  if not v then return nil end
  local l = decode('lease ' .. id, v)
  if type(l.w) ~= 'string' or type(l.s) ~= 'number' or type(l.t) ~= 'table' or type(l.st) ~= 'string' then
    fail_corrupt('lease ' .. id)
  end
  l.id = id
  return l
end

local function put_lease(l)
  redis.call('HSET', K_LEASES, l.id, cjson.encode({ w = l.w, s = l.s, e = l.e, i = l.i, r = l.r, t = l.t, st = l.st, c = l.c, f = l.f }))
end

-- An active lease ends: done (reported), reclaimed (worker presumed dead) or released (handed back).
local function end_lease(ctx, lease, state)
  lease.st, lease.e = state, ctx.now
  put_lease(lease)
  inflight_add(ctx.meta, lease, -1)
end

-- The states of the given tests (nil: none), all read and checked before a script writes anything.
local function load_tests(ids)
  local vals, states = hmget_many(K_TESTS, ids), {}
  for i, id in ipairs(ids) do states[i] = unpack_test(id, vals[i]) end
  return states
end

-- The states of tests a claim just popped from the list `key`. A missing or corrupt one puts them all
-- back at its head, in order, before the error is raised: Redis would not roll the pop back.
local function load_popped(key, ids, ttl)
  local ok, res = pcall(function()
    local states = load_tests(ids)
    for i, id in ipairs(ids) do
      if not states[i] then fail_corrupt('queued test ' .. id .. ' has no state') end
    end
    return states
  end)
  if ok then return res end
  local back = {}
  for i = #ids, 1, -1 do back[#back + 1] = ids[i] end
  if push_many('LPUSH', key, back) == #back then redis.call('EXPIRE', key, ttl) end
  error(res, 0)
end

-- Every test of a lease that is still held under it ends without a result (reap, release). states:
-- load_tests(lease.t) when the caller read them before its first write.
local function drop_lease(ctx, lease, outcome, msg, states)
  states = states or load_tests(lease.t)
  local held = 'h:' .. lease.id
  for i, id in ipairs(lease.t) do
    local st = states[i]
    if st and st.where == held then apply_noresult(ctx, id, st, lease, outcome, msg) end
  end
end
