-- cost.lua: the run's cost model and the sizing rule of adaptive batches, prepended after lib.lua to
-- every script (src/scripts.ts). Not a script by itself. src/sizing/costmodel.ts is the other half (what the
-- controller seeds, and what it learns after a run); docs/benchmarks.md "The cost model" has the
-- equations.
--
-- A test's cost is its field in K_COSTS (what earlier runs measured), else the run's guess: the seeded
-- guessMs pulled towards what this run's batches showed per test of unknown cost (gobs "n|sum").
-- The start cost S of a batch is the timings' startMs, else what this run shows: over batches whose
-- every test carries the runner's own cost c, the intercept of wall - sum of c = S + a x (tests)
-- (cobs "n|sx|sy|sxx|sxy"; 0 while the sizes cannot tell: a runner's time per file is no start cost,
-- and the runners that measure c are warm), else the intercept of a line fitted over batches of
-- unknown tests: wall = S + k x (their JUnit times)
-- (jfit "n|sx|sy|sxx|sxy"; JUnit shows a varying part of each test, but its sum follows the batch's
-- cost far better than the count does), else wall = S + g x (tests in the batch) (fit, same sums).
-- Each is a few sums in meta, updated in O(1) per report.

-- The seeded guess weighs as much as this many measured tests.
local GUESS_PRIOR = 1

-- "a|b|c" as numbers, 0 for the missing ones.
local function sums(s, n)
  local out, i = {}, 0
  for v in string.gmatch(s or '', '[^|]+') do
    i = i + 1
    out[i] = tonumber(v) or 0
  end
  for j = i + 1, n do out[j] = 0 end
  return out
end

-- Adds to the sums in meta[field], and queues the field for one HSET (out: field, value, ...).
local function sums_add(meta, field, adds, out)
  local cur = sums(meta[field], #adds)
  local parts = {}
  for i, a in ipairs(adds) do parts[i] = string.format('%.17g', cur[i] + a) end
  meta[field] = table.concat(parts, '|')
  out[#out + 1] = field
  out[#out + 1] = meta[field]
end

-- What a test of unknown cost is expected to cost, ms.
local function guess_ms(meta)
  local g = sums(meta.gobs, 2)
  if g[1] <= 0 then return meta.guessMs end
  return (meta.guessMs * GUESS_PRIOR + g[2]) / (GUESS_PRIOR + g[1])
end

-- The intercept of wall = S + g x n (n: JUnit sum or tests in the batch, g >= 0) by least squares; nil
-- below 3 batches, or while n hardly varies (the start cannot be told from the tests then).
local function fitted_start(sumsText)
  local f = sums(sumsText, 5)
  local n, sx, sy, sxx, sxy = f[1], f[2], f[3], f[4], f[5]
  if n < 3 then return nil end
  local mx, my = sx / n, sy / n
  local vxx = sxx / n - mx * mx
  if vxx <= 0.01 * mx * mx then return nil end
  local g = math.max(0, (sxy / n - mx * my) / vxx)
  return math.min(my, math.max(0, my - g * mx))
end

-- The start cost claims plan with, ms.
local function start_cost(meta)
  if meta.startMs > 0 then return meta.startMs end
  local s
  if sums(meta.cobs, 1)[1] > 0 then
    s = fitted_start(meta.cobs) or 0
  else
    s = fitted_start(meta.jfit) or fitted_start(meta.fit) or 0
  end
  return math.floor(math.max(0, s) + 0.5)
end

-- A stored cost (a K_COSTS value), or the guess for a test that has none.
local function cost_of(v, guess)
  return tonumber(v) or guess
end

-- A batch that ended with a result for each test tells the run what its tests of unknown cost cost:
-- (wall - S - known costs) spread evenly over them, and at least their c when every test has one (an
-- isolated batch, a fresh process, counts c only: its start is not the warm runner's; nor is the start
-- in a warm runner's first batch, lease.r). Adaptive batches only (count mode sizes nothing):
-- two commands a report.
local function learn_batch(meta, lease, results, wall)
  if meta.batchMs <= 0 then return end
  local out = {}
  local vals = hmget_many(K_COSTS, lease.t)
  local known, unknown, cAll, cUnknown, allC, junit, allJ = 0, 0, 0, 0, true, 0, true
  for i, id in ipairs(lease.t) do
    local res = results[id]
    if res.j and type(res.d) == 'number' then junit = junit + res.d else allJ = false end
    local c = res.c
    if type(c) ~= 'number' or c < 0 then
      c, allC = nil, false
    else
      cAll = cAll + c
    end
    if vals[i] then
      known = known + (tonumber(vals[i]) or 0)
    else
      unknown = unknown + 1
      cUnknown = cUnknown + (c or 0)
    end
  end
  local n = #lease.t
  local ownStart = lease.i or lease.r
  if allC then
    if not ownStart then
      local r = math.max(0, wall - cAll)
      sums_add(meta, 'cobs', { 1, n, r, n * n, n * r }, out)
    end
  elseif unknown == #lease.t then
    sums_add(meta, 'fit', { 1, unknown, wall, unknown * unknown, unknown * wall }, out)
    if allJ then sums_add(meta, 'jfit', { 1, junit, wall, junit * junit, junit * wall }, out) end
  end
  if unknown > 0 then
    local rest = math.max(0, wall - start_cost(meta) - known)
    if allC then rest = ownStart and cUnknown or math.max(cUnknown, rest) end
    sums_add(meta, 'gobs', { unknown, rest }, out)
  end
  if #out > 0 then redis.call('HSET', K_META, unpack(out)) end
end

-- Estimated ms of work waiting in the primary queue.
local function queued_work(meta, guess)
  return meta.qcost + meta.qunk * guess
end

-- The sizing rule of an adaptive claim (claim.lua). Returns the target (ms of estimated work to fill
-- up to) and the most the batch may hold (ms; first fit always takes the head, so at least 1 test):
-- * fair: what would make this batch end when every worker ends, if the queue were spread now over
--   W = max(live, expected) workers, each paying one more start cost: the queue and what active
--   leases still have to do (their start costs included), over W.
-- * target: share of it (guided self-scheduling: batches shrink as the queue drains), capped by
--   batchMs; all of it when the rest would be worth less than cutStarts start costs; at least
--   minStarts start costs.
-- * most: a batch never holds more than fair, unless every other worker is busy, and then no more
--   than what they still have to do on average (so it ends no later than they do); and while other
--   workers hold nothing, no more than an equal part of the queue with them.
local function batch_bounds(meta, startMs, guess, now)
  local workers = math.max(1, meta.live, meta.workers)
  local idle = math.max(0, workers - meta.inN - 1)
  local queued = queued_work(meta, guess)
  local running = math.max(0, meta.inCost - (meta.inN * now - meta.inStarts))
  local fair = (queued + running) / workers
  local cut, cap = meta.cutStarts * startMs, meta.batchMs + meta.slackMs
  local target = math.min(meta.batchMs, fair * meta.share)
  if target < fair and fair - target < cut and fair <= cap then target = fair end
  target = math.max(target, meta.minStarts * startMs)
  local most = fair
  if idle == 0 and meta.inN > 0 then most = math.max(fair, running / meta.inN) end
  if idle > 0 then most = math.min(most, queued / (idle + 1)) end
  return math.min(target, most), math.min(cap, most), idle, cut, queued
end
