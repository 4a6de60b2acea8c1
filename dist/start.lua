-- start.lua: open a seeded run to claims.
-- KEYS: see lib.lua.  ARGV: [1] epoch.
-- Returns: the start time in ms (Redis TIME), or 'stale'.
-- Invariant 1: completion is only decided once every test is seeded, so a fast worker cannot
-- complete a half-seeded run.
local meta = load_meta()
if not meta or meta.epoch ~= ARGV[1] then return 'stale' end
if meta.state ~= 'seeding' then return redis.error_reply('shardless: the run was already started') end
local now = now_ms()
if meta.total == 0 then
  redis.call('HSET', K_META, 'state', 'complete', 'seededAt', now, 'completedAt', now)
else
  redis.call('HSET', K_META, 'state', 'running', 'seededAt', now)
end
return now
