-- seed.lua: add one chunk of tests to the primary queue, in the given order.
-- KEYS: see lib.lua.  ARGV: [1] epoch, [2..] test ids (distinct, not seeded before in this run).
-- Returns: number of tests added, or 'stale' when the epoch changed.
-- Invariant 2: a seeded test is in exactly one place, the primary queue (state q).
local meta = load_meta()
if not meta or meta.epoch ~= ARGV[1] then return 'stale' end
if meta.state ~= 'seeding' then return redis.error_reply('shardless: seeding after the run started') end
local pairs_, ids = {}, {}
for i = 2, #ARGV do
  ids[#ids + 1] = ARGV[i]
  pairs_[#pairs_ + 1] = ARGV[i]
  pairs_[#pairs_ + 1] = 'q|0|0|0|0'
end
if #ids == 0 then return 0 end
for i = 1, #pairs_, 1000 do redis.call('HSET', K_TESTS, unpack(pairs_, i, math.min(i + 999, #pairs_))) end
redis.call('EXPIRE', K_TESTS, meta.ttl)
push_ttl(K_QUEUE, ids, meta.ttl)
redis.call('EXPIRE', K_QUEUE, meta.ttl)
redis.call('HINCRBY', K_META, 'total', #ids)
return #ids
