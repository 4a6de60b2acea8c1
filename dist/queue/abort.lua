-- abort.lua: the controller stops the run (signal, timeout, no live worker).
-- KEYS: see lib.lua.  ARGV: [1] epoch, [2] reason.
-- Returns: the run's state after the call, or 'stale'.
-- A run already complete stays complete: its results are final.
local meta = load_meta()
if not meta or meta.epoch ~= ARGV[1] then return 'stale' end
if meta.state == 'complete' or meta.state == 'aborted' then return meta.state end
redis.call('HSET', K_META, 'state', 'aborted', 'reason', ARGV[2], 'completedAt', now_ms())
return 'aborted'
