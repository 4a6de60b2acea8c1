-- release.lua: a worker leaves the run: on a signal (cancelled) or when the run is over (finished).
-- KEYS: see lib.lua (KEYS[8] is this worker's heartbeat key).
-- ARGV: [1] epoch, [2] worker id, [3] lease id it holds ('' for none), [4] cancelled|finished,
--   [5] instance token (see register.lua).
-- Returns: number of tests handed back, or 'stale'.
-- Invariant 2: held tests go straight back to the requeue (or become lost at max-attempts) so peers
-- re-run them now rather than after heartbeat-ttl. Invariant 3: a lease no longer active hands back
-- nothing.
local meta = load_meta()
if not meta or meta.epoch ~= ARGV[1] then return 'stale' end
local wid, leaseId, state = ARGV[2], ARGV[3], ARGV[4]
local ctx = new_ctx(meta, now_ms())
local w = get_worker(wid)
-- An instance whose worker id another took over holds nothing: the other's batch is not its to hand back.
if w and w.inst and ARGV[5] and w.inst ~= ARGV[5] then return 0 end
-- The worker's record names the lease it holds; the one it sends may be '' or older (a signal that
-- came while its claim was in flight): hand back the held one, never leave it orphaned.
if w and w.lease ~= '' then leaseId = w.lease end
local lease = leaseId ~= '' and get_lease(leaseId) or nil
if lease and lease.st == 'active' and lease.w == wid then
  drop_lease(ctx, lease, 'lost', 'worker cancelled')
  end_lease(ctx, lease, 'released')
  if w then
    w.lostBatches = w.lostBatches + 1
    w.busyMs = w.busyMs + (ctx.now - lease.s)
  end
end
if w and w.state ~= 'dead' then
  w.state, w.lease = state, ''
  put_worker(wid, w)
end
redis.call('DEL', K_HB)
flush(ctx)
return #ctx.requeue
