-- start.lua: open a seeded run to claims.
-- KEYS: see lib.lua.  ARGV: [1] epoch.
-- Returns: the start time in ms (Redis TIME), or 'stale'.
-- Invariant 1: completion is only decided once every test is seeded, so a fast worker cannot
-- complete a half-seeded run.
local meta = load_meta()
if not meta or meta.epoch ~= ARGV[1] then return 'stale' end
-- Sent again (its reply lost to a reconnect): the run started already; answer as the first time.
if meta.state ~= 'seeding' then return tonumber(redis.call('HGET', K_META, 'seededAt')) or now_ms() end
local now = now_ms()
if meta.total == 0 then
  redis.call('HSET', K_META, 'state', 'complete', 'seededAt', now, 'completedAt', now)
else
  redis.call('HSET', K_META, 'state', 'running', 'seededAt', now)
end
return now
