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
for j, v in ipairs(hmget_many(K_TESTS, given)) do if v then seen[given[j]] = true end end
local QUEUED = pack_test({ where = 'q', runs = 0, attempts = 0, fails = 0, passes = 0 })
local pairs_, ids, costs, total, unknown = {}, {}, {}, 0, 0
for i = 2, #ARGV - 1, 2 do
  local id, c = ARGV[i], tonumber(ARGV[i + 1])
  if not seen[id] then
    seen[id] = true
    ids[#ids + 1] = id
    pairs_[#pairs_ + 1] = id
    pairs_[#pairs_ + 1] = QUEUED
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
hset_many(K_TESTS, pairs_)
hset_many(K_COSTS, costs)
redis.call('EXPIRE', K_TESTS, meta.ttl)
if #costs > 0 then redis.call('EXPIRE', K_COSTS, meta.ttl) end
redis.call('HINCRBY', K_META, 'qcost', total)
redis.call('HINCRBY', K_META, 'qunk', unknown)
push_ttl(K_QUEUE, ids, meta.ttl)
redis.call('EXPIRE', K_QUEUE, meta.ttl)
redis.call('HINCRBY', K_META, 'total', #ids)
return #ids
