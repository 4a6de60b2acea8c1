-- report.lua: a worker reports the results of a batch it held.
-- KEYS: see lib.lua (KEYS[8] is this worker's heartbeat key).
-- ARGV: [1] epoch, [2] worker id, [3] lease id, [4] how the batch ended (finished|timed-out|killed|split:
--   NO_RESULT below says what it records for a test without a result), [5] JSON object: test id -> {o: passed|failed|skipped, d: ms, m: message,
--   f: file, l: line, j: d measured by the runner, c: whole cost measured by the runner (ms)}, [6] '1' for a
--   warm runner's first batch (its wall carries the runner's start: the cost model treats it as isolated).
-- Returns: {'ok'|'fenced'|'unknown'|'stale', JSON object test id -> final status for tests made final
--   here}; 'unknown': Redis has no such lease (it lost its last writes), fenced too.
-- Invariants: 1 (first final result wins: a final test is never changed); 3 (a reclaimed lease only
-- lands results for tests that are in the requeue, taking them out of it; it requeues nothing else);
-- 4 (split and lost tests go to the requeue, to be claimed alone).
local meta = load_meta()
if not meta or meta.epoch ~= ARGV[1] then return { 'stale', '{}' } end
local wid, lease = ARGV[2], get_lease(ARGV[3])
-- A lease Redis does not know: it lost its last writes (restarted from a snapshot or an AOF synced
-- every second). Fenced like a reclaimed lease: the worker rejoins, its tests' state is Redis's.
if not lease then return { 'unknown', '{}' } end
-- The run recorded for a test the report has no result for, by how its batch ended: a batch that
-- finished (or was killed) without a result for it lost that result; split only makes sense for
-- several tests (a lone test that fails without per-test results is simply that test's failure,
-- which the worker decides). Any other word counts as a lost result.
local NO_RESULT = { finished = 'lost', killed = 'lost', ['timed-out'] = 'timeout', split = 'split' }
local noresult = NO_RESULT[ARGV[4]] or 'lost'
if noresult == 'split' and #lease.t == 1 then noresult = 'lost' end
-- Everything is read and checked before the first write: Redis does not roll back a failed script.
local results = decode('results', ARGV[5])
for _, r in pairs(results) do
  if type(r) ~= 'table' then fail_corrupt('results') end
end
local ctx = new_ctx(meta, now_ms())
local states = load_tests(lease.t)

if lease.st == 'active' and lease.w == wid then
  local w = get_worker(wid) -- read (and checked) before anything is written
  local held = 'h:' .. lease.id
  for i, id in ipairs(lease.t) do
    local st = states[i]
    if st and st.where == held then
      local res = results[id]
      if res then apply_result(ctx, id, st, lease, res)
      else apply_noresult(ctx, id, st, lease, noresult) end
    end
  end
  if ARGV[6] == '1' then lease.r = true end
  -- A batch neither timed out nor split, with a result for each test, tells the run's cost model what
  -- its tests cost (cost.lua).
  if noresult == 'lost' then
    local all = true
    for _, id in ipairs(lease.t) do
      if not results[id] then all = false break end
    end
    if all then learn_batch(meta, lease, results, ctx.now - lease.s) end
  end
  lease.f = ctx.finals -- kept, so that a report sent again gets the same answer
  end_lease(ctx, lease, 'done')
  if w then
    w.lease, w.batches, w.tests = '', w.batches + 1, w.tests + #lease.t
    w.busyMs = w.busyMs + (ctx.now - lease.s)
    put_worker(wid, w)
  end
  redis.call('SET', K_HB, '1', 'PX', meta.heartbeatTtl * 1000)
  flush(ctx)
  return { 'ok', cjson.encode(ctx.finals) }
end

-- The same report sent again (its reply lost to a reconnect): the same answer, nothing changed.
if lease.st == 'done' and lease.w == wid then return { 'ok', cjson.encode(lease.f or {}) } end

-- Fenced: the lease was reclaimed (or released). Accept a result only for a test that is neither
-- final nor held under another lease, i.e. waiting in the requeue.
if lease.st == 'reclaimed' then
  for i, id in ipairs(lease.t) do
    local st = states[i]
    local res = results[id]
    if res and st and st.where == 'r' then
      redis.call('LREM', K_REQUEUE, 1, id)
      apply_result(ctx, id, st, lease, res)
    end
  end
  flush(ctx)
end
return { 'fenced', cjson.encode(ctx.finals) }
