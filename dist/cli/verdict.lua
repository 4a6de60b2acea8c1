-- verdict.lua: the controller records the verdict of its run when it ends (a later attempt's re-run
-- reads it: src/controller/rerun.ts).
-- KEYS: see lib.lua.  ARGV: [1] epoch, [2] passed|failed.
-- Returns: 'OK', or 'stale' when the run was reset under another epoch or its meta expired: nothing is
-- written then (invariant 7, and invariant 6: a meta hash recreated here would have no TTL).
local meta = load_meta()
if not meta or meta.epoch ~= ARGV[1] then return 'stale' end
redis.call('HSET', K_META, 'result', ARGV[2])
return 'OK'
