// The cost model: what a test costs and what starting a batch costs, learnt from what batches measured,
// and how the controller sets adaptive batches up from it. Its Lua half, src/sizing/cost.lua, learns
// within a run and sizes each claim; the equations of both are in docs/benchmarks.md "The cost model".
//
// Wall time is the truth. A result may carry the runner's own measure of a test's whole cost (c:
// environment, import, collection, set-up, tests); then walls beyond the sum of c are fitted as
// S + a x (tests): a runner spends some time on each file that no file's c shows (vue core: about
// 0.3 s a file in vitest, a third of its wall beyond c), which is the file's cost, not a start cost.
// A test then costs c + a. Without it (a custom command: JUnit times, which leave out most of a file's
// cost, or only exit codes), a run's batches are fitted as wall = S + a x (tests without a cost) +
// k x (their JUnit times) by non-negative least squares, and each batch's wall beyond S is spread over
// its tests in the shape that fit (or earlier runs) gives them. Either way a test's new cost is folded
// into its old one, so costs settle across runs while a batch's estimate stays close to its wall.
import type { ControllerConfig } from '../config.js';
import type { HistoryEntry, RunData } from '../types.js';

/** Weight of the newest observation in the moving average. */
export const ALPHA = 0.5;
/** An observation this far (a factor) from the old value replaces it: the old one was wrong, or the test changed. */
export const JUMP = 2;
/** Guess for a test when nothing is known. */
export const DEFAULT_COST_MS = 1_000;

export interface Timings {
  costs: Map<string, number>;
  /** Per-batch start cost, ms; null when never measured. */
  startMs: number | null;
  /** Part (0-1) of the last run's costs that the runner measured (c) rather than a fit of walls; absent: unknown. */
  measured?: number;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The cost of a test no earlier run measured: the median of the known ones, else a fixed guess. */
export function guessOf(ids: string[], t: Timings): number {
  const known = ids.map((id) => t.costs.get(id)).filter((c): c is number => c !== undefined);
  return known.length > 0 ? median(known) : DEFAULT_COST_MS;
}

/** Estimated cost of each test: known, else the guess. */
export function estimate(ids: string[], t: Timings): Map<string, number> {
  const guess = guessOf(ids, t);
  return new Map(ids.map((id) => [id, t.costs.get(id) ?? guess]));
}

/** Longest first; ties keep the listed order (sort is stable). */
export function longestFirst(ids: string[], est: Map<string, number>): string[] {
  return [...ids].sort((a, b) => (est.get(b) ?? 0) - (est.get(a) ?? 0));
}

/** Folds an observation into an old value: a moving average, or the observation when they are far apart. */
export function fold(old: number | undefined | null, obs: number): number {
  if (old === undefined || old === null) return obs;
  const far = obs > JUMP * old || old > JUMP * obs;
  return far ? obs : ALPHA * obs + (1 - ALPHA) * old;
}

// ---- what a run measured (ownStart: a start no warm batch pays: isolated, or a warm runner's first) ----
interface Observed { wall: number; members: HistoryEntry[]; ownStart: boolean }

/** Batches that ended normally with a result for each member: the only ones whose wall time says something. */
function observedBatches(data: RunData): Observed[] {
  const byBatch = new Map<string, HistoryEntry[]>();
  for (const h of data.history) {
    if (h.o !== 'passed' && h.o !== 'failed' && h.o !== 'skipped') continue;
    const list = byBatch.get(h.b) ?? [];
    list.push(h);
    byBatch.set(h.b, list);
  }
  const out: Observed[] = [];
  for (const b of data.batches) {
    const members = byBatch.get(b.id);
    if (b.state !== 'done' || b.endMs === null || !members || members.length !== b.tests.length) continue;
    out.push({ wall: Math.max(0, b.endMs - b.startMs), members, ownStart: b.isolated || b.firstOnRunner });
  }
  return out;
}

const hasC = (m: HistoryEntry): m is HistoryEntry & { c: number } => typeof m.c === 'number' && Number.isFinite(m.c) && m.c >= 0;

/** Solves a small linear system (Gaussian elimination, partial pivoting); null when singular. */
function solve(a: number[][], b: number[]): number[] | null {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    if (Math.abs(m[p][c]) < 1e-9 * Math.max(1, Math.abs(m[c][c]))) return null;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/**
 * Non-negative least squares for a handful of columns: the fit of lowest squared error among the
 * least-squares fits of every subset of columns whose coefficients are all >= 0 (exact for so few).
 * Columns left out get 0.
 */
export function nnls(rows: number[][], y: number[]): number[] {
  const p = rows[0]?.length ?? 0;
  let best = new Array<number>(p).fill(0);
  let bestErr = y.reduce((a, v) => a + v * v, 0);
  for (let mask = 1; mask < 1 << p; mask++) {
    const cols = Array.from({ length: p }, (_, i) => i).filter((i) => mask & (1 << i));
    if (cols.length > rows.length) continue;
    const ata = cols.map((i) => cols.map((j) => rows.reduce((a, r) => a + r[i] * r[j], 0)));
    const aty = cols.map((i) => rows.reduce((a, r, k) => a + r[i] * y[k], 0));
    const x = solve(ata, aty);
    if (!x || x.some((v) => v < 0 || !Number.isFinite(v))) continue;
    const coef = new Array<number>(p).fill(0);
    cols.forEach((c, k) => (coef[c] = x[k]));
    const err = rows.reduce((a, r, k) => a + (y[k] - r.reduce((s, v, i) => s + v * coef[i], 0)) ** 2, 0);
    if (err < bestErr - 1e-9) {
      best = coef;
      bestErr = err;
    }
  }
  return best;
}

/**
 * What one run's batches say: the start cost, the time a runner spends on each measured test beyond
 * its c, and the shape of a test without a cost (a + k x JUnit).
 */
export interface RunFit { startMs: number | null; perMeasured: number; perTest: number; perJUnit: number }

const sumC = (b: Observed) => b.members.reduce((a, m) => a + (m.c ?? 0), 0);

/**
 * Batches whose every test carries c: wall - sum of c = S + a x (tests), S, a >= 0 by least squares
 * over 3 or more batches of different sizes. When the sizes cannot tell S from a, S is the earlier
 * start cost (0 when none: the runners that measure c are warm ones, whose batch starts in a fraction
 * of a second) and the rest is spread over the tests: taking a runner's time per file for a start cost
 * is what made every batch a whole share (one batch per worker on vue core). A batch that paid its own
 * start (ownStart) says nothing of a warm batch's: its tests' c still counts, not its wall.
 */
function fitMeasured(prev: Timings, batches: Observed[]): { startMs: number | null; perMeasured: number } {
  const full = batches.filter((b) => !b.ownStart && b.members.every(hasC));
  if (full.length === 0) return { startMs: null, perMeasured: 0 };
  const n = full.map((b) => b.members.length);
  const r = full.map((b) => b.wall - sumC(b));
  if (full.length >= 3 && varies(n)) {
    const [startMs, perMeasured] = nnls(n.map((x) => [1, x]), r);
    return { startMs, perMeasured };
  }
  const startMs = Math.max(0, Math.min(prev.startMs ?? 0, ...r));
  const over = r.reduce((a, x) => a + Math.max(0, x - startMs), 0);
  return { startMs, perMeasured: over / n.reduce((a, x) => a + x, 0) };
}

/**
 * The start cost a run shows, from batches whose every test carries c (fitMeasured); else, over the
 * batches, wall - known costs = S + a x (tests without a cost) + k x (their JUnit times), S, a, k >= 0
 * by least squares (S the median residual when every test had a cost).
 */
export function fitRun(prev: Timings, batches: Observed[]): RunFit {
  const measuredFit = fitMeasured(prev, batches);
  const startMs = measuredFit.startMs;
  const perMeasured = measuredFit.perMeasured;
  const known = (m: HistoryEntry) => (hasC(m) ? m.c + perMeasured : prev.costs.get(m.t));
  const rows: number[][] = [];
  const ys: number[] = [];
  for (const b of batches) {
    if (b.members.every(hasC)) continue;
    let y = b.wall;
    let unknown = 0;
    let junit = 0;
    for (const m of b.members) {
      const k = known(m);
      if (k !== undefined) y -= k;
      else {
        unknown += 1;
        if (m.j) junit += m.d;
      }
    }
    rows.push([1, unknown, junit]);
    ys.push(y);
  }
  if (rows.length === 0) return { startMs, perMeasured, perTest: 0, perJUnit: 0 };
  if (rows.every((r) => r[1] === 0)) return { startMs: startMs ?? Math.max(0, median(ys)), perMeasured, perTest: 0, perJUnit: 0 };
  if (startMs === null && rows.length >= 3 && (varies(rows.map((r) => r[1])) || varies(rows.map((r) => r[2])))) {
    const [s, a, k] = nnls(rows, ys);
    return { startMs: s, perMeasured, perTest: a, perJUnit: k };
  }
  // The start cost cannot be told from the tests here (too few batches, or all alike): the one c
  // showed, else the earlier one, else none; the fit only shapes the tests' part.
  const s = startMs ?? prev.startMs ?? 0;
  const [a, k] = nnls(rows.map((r) => [r[1], r[2]]), ys.map((y) => y - s));
  return { startMs, perMeasured, perTest: a, perJUnit: k };
}

/** True when the values spread enough to fit a slope on (as cost.lua's fit requires). */
function varies(xs: number[]): boolean {
  const mean = xs.reduce((a, x) => a + x, 0) / xs.length;
  const v = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / xs.length;
  return mean > 0 && v > 0.01 * mean * mean;
}

/** Folds one run's observations into the timings. */
export function learn(prev: Timings, data: RunData): Timings {
  const batches = observedBatches(data);
  const fit = fitRun(prev, batches);
  const start = fit.startMs ?? prev.startMs ?? 0;
  const costs = new Map(prev.costs);
  let withC = 0;
  let seen = 0;
  for (const { wall, members } of batches) {
    seen += members.length;
    withC += members.filter(hasC).length;
    // A test's cost is c where the runner measured it; the rest of the wall beyond the start cost is
    // spread over the others in proportion to what they were thought to cost.
    const rest = members.filter((m) => !hasC(m));
    const left = Math.max(0, wall - start - members.reduce((a, m) => a + (hasC(m) ? m.c + fit.perMeasured : 0), 0));
    const shape = rest.map((m) => prev.costs.get(m.t) ?? fit.perTest + (m.j ? fit.perJUnit * m.d : 0));
    const total = shape.reduce((a, w) => a + w, 0);
    for (const m of members) if (hasC(m)) costs.set(m.t, fold(costs.get(m.t), m.c + fit.perMeasured));
    rest.forEach((m, i) => costs.set(m.t, fold(costs.get(m.t), total > 0 ? (left * shape[i]) / total : left / rest.length)));
  }
  const out: Timings = { costs, startMs: fit.startMs === null ? prev.startMs : fold(prev.startMs, fit.startMs) };
  const measured = seen > 0 ? withC / seen : prev.measured;
  if (measured !== undefined) out.measured = measured;
  return out;
}

// ---- how adaptive batches are set up ----

/**
 * The part of a fair share a batch takes (the rest: shrinking batches, cost.lua). Mostly guessed: half,
 * so long tests found late can be balanced. Fitted from walls (a fifth off): 0.7. Measured: 0.9, or half
 * when rounds are cheap (a warm runner: start under 2 % of a worker's work), evening out run-to-run moves.
 */
function shareOf(known: number, measured: number, cheap: boolean): number {
  return known < 0.9 ? 0.5 : measured < 0.9 ? 0.7 : cheap ? 0.5 : 0.9;
}

/** Auto batch target: start cost at most ~5% of a batch, and at most about a minute of rework when one is lost. */
export function autoBatchMs(startMs: number): number {
  return Math.max(60_000, 20 * startMs);
}

export interface Plan {
  /** The queue's order: longest first with timings. */
  order: string[];
  /** The known costs; a test missing here is seeded as unknown and costs the run's guess. */
  costs: Map<string, number>;
  guessMs: number;
  batchMs: number;
  share: number;
  cutStarts: number;
  minStarts: number;
  slackMs: number;
  startMs: number;
}

/**
 * How the queue is ordered and batches are sized (the settings claim.lua and cost.lua read). With
 * timings, tests go longest first; with batch-duration set (seconds or auto) batches are filled by
 * estimated cost, taking a larger part of a fair share of the work left when most costs are known.
 * batch-duration 0: batches of batch-size tests.
 */
export function plan(cfg: ControllerConfig, ids: string[], t: Timings): Plan {
  const known = ids.filter((id) => t.costs.has(id)).length / Math.max(1, ids.length);
  const startMs = cfg.timings ? (t.startMs ?? 0) : 0;
  const costs = cfg.timings ? new Map(ids.flatMap((id) => (t.costs.has(id) ? [[id, t.costs.get(id)!] as const] : []))) : new Map<string, number>();
  const guessMs = cfg.timings ? guessOf(ids, t) : DEFAULT_COST_MS;
  const est = estimate(ids, t);
  const perWorker = [...est.values()].reduce((a, c) => a + c, 0) / (cfg.workers || 1);
  const cheap = known >= 0.9 && (t.measured ?? 0) >= 0.9 && startMs < 0.02 * perWorker;
  const cutStarts = known < 0.9 ? 0 : cheap ? 2 : 8;
  return {
    order: cfg.timings ? longestFirst(ids, est) : ids,
    costs,
    guessMs,
    batchMs: cfg.batchDuration === 'auto' ? autoBatchMs(startMs) : cfg.batchDuration * 1000,
    share: shareOf(known, t.measured ?? 0, cheap),
    // With known costs, no cut (nor anything left queued) under 8 start costs of work; 2 when rounds
    // are cheap: a warm runner's file costs move by a third between runs and cores (jest on
    // react-hook-form), so the last batches stay small. Guessed costs: a guess may hide a long test.
    cutStarts,
    // And with guessed costs, no batch under 4 start costs (the start cost this run shows, when no
    // earlier run measured one) while the other workers are busy: one-test batches would pay a start
    // cost each.
    minStarts: known >= 0.9 ? 1 : 4,
    // A set batch-duration is a hard cap; auto may stretch by the cut (else seconds pay a start cost).
    slackMs: cfg.batchDuration === 'auto' ? cutStarts * startMs : 0,
    startMs,
  };
}
