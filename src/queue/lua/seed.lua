-- seed.lua: add one chunk of tests to the primary queue, in the given order.
-- KEYS: see lib.lua.  ARGV: [1] epoch, [2..] pairs of test id (distinct, not seeded before in this run)
--   and its estimated cost in ms, or '' for a test no earlier run measured (it costs the run's guess:
--   cost.lua).
-- Returns: number of tests added, or 'stale' when the epoch changed.
-- Invariant 2: a seeded test is in exactly one place, the primary queue (state q); ids already seeded
-- (a chunk sent twice) are skipped.
local meta = load_meta()
if not meta or meta.epoch ~= ARGV[1] then return 'stale' end
if meta.state ~= 'seeding' then return redis.error_reply('shardless: seeding after the run started') end
-- A chunk sent again (its reply lost to a reconnect) must not queue its tests twice.
local given = {}
for i = 2, #ARGV - 1, 2 do given[#given + 1] = ARGV[i] end
if #given == 0 then return 0 end
local seen = {}
for i = 1, #given, 1000 do
  local vals = redis.call('HMGET', K_TESTS, unpack(given, i, math.min(i + 999, #given)))
  for j, v in ipairs(vals) do if v then seen[given[i + j - 1]] = true end end
end
local pairs_, ids, costs, total, unknown = {}, {}, {}, 0, 0
for i = 2, #ARGV - 1, 2 do
  local id, c = ARGV[i], tonumber(ARGV[i + 1])
  if not seen[id] then
    seen[id] = true
    ids[#ids + 1] = id
    pairs_[#pairs_ + 1] = id
    pairs_[#pairs_ + 1] = 'q|0|0|0|0'
    if c then
      costs[#costs + 1] = id
      costs[#costs + 1] = math.floor(c)
      total = total + math.floor(c)
    else
      unknown = unknown + 1
    end
  end
end
if #ids == 0 then return 0 end
for i = 1, #pairs_, 1000 do
  redis.call('HSET', K_TESTS, unpack(pairs_, i, math.min(i + 999, #pairs_)))
end
for i = 1, #costs, 1000 do
  redis.call('HSET', K_COSTS, unpack(costs, i, math.min(i + 999, #costs)))
end
redis.call('EXPIRE', K_TESTS, meta.ttl)
if #costs > 0 then redis.call('EXPIRE', K_COSTS, meta.ttl) end
redis.call('HINCRBY', K_META, 'qcost', total)
redis.call('HINCRBY', K_META, 'qunk', unknown)
push_ttl(K_QUEUE, ids, meta.ttl)
redis.call('EXPIRE', K_QUEUE, meta.ttl)
redis.call('HINCRBY', K_META, 'total', #ids)
return #ids
