// plan() (src/sizing/costmodel.ts): how the controller orders the queue and sets up adaptive batches from
// what the timings know.
import { describe, expect, test } from 'vitest';
import { autoBatchMs, plan } from '../src/sizing/costmodel.js';
import type { ControllerConfig } from '../src/action/inputs.js';
import { DEFAULT_COST_MS } from '../src/sizing/costmodel.js';

const cfg = (o: Partial<ControllerConfig>) => ({ timings: true, batchDuration: 'auto', ...o }) as ControllerConfig;
const ids = Array.from({ length: 20 }, (_, i) => `t${String(i + 1).padStart(2, '0')}`);

describe('plan', () => {
  test('costs known for at least 90 % of the tests: longest first, share 0.9, no cut under 8 start costs', () => {
    const costs = new Map(ids.slice(0, 18).map((id, i) => [id, (i + 1) * 1_000]));
    // 8 workers: 23.75 s of work each, of which the 1.5 s start cost is over 2 %.
    const p = plan(cfg({ workers: 8 }), ids, { costs, startMs: 1_500, measured: 1 });
    expect(p).toMatchObject({ share: 0.9, cutStarts: 8, minStarts: 1, startMs: 1_500, batchMs: autoBatchMs(1_500), slackMs: 12_000 });
    // A batch-duration the user set is a hard cap.
    expect(plan(cfg({ batchDuration: 30 }), ids, { costs, startMs: 1_500 })).toMatchObject({ batchMs: 30_000, slackMs: 0 });
    expect(p.order.slice(0, 3)).toEqual(['t18', 't17', 't16']);
    // The unknown two are seeded without a cost: they cost the run's guess, the median of the known ones.
    expect(p.costs.has('t19')).toBe(false);
    expect(p.costs.get('t18')).toBe(18_000);
    expect(p.guessMs).toBe(9_500);
  });

  test('measured costs with a start cost under 2 % of a worker\'s work (a warm runner): share 0.5 and a cut of 2 start costs, batches that shrink to the end to even out costs that move between runs', () => {
    const costs = new Map(ids.map((id, i) => [id, (i + 1) * 1_000])); // 210 s in all
    // 2 workers: 105 s each; 2 % is 2.1 s.
    expect(plan(cfg({ workers: 2 }), ids, { costs, startMs: 300, measured: 1 })).toMatchObject({ share: 0.5, cutStarts: 2, minStarts: 1 });
    expect(plan(cfg({ workers: 2 }), ids, { costs, startMs: 2_000, measured: 1 })).toMatchObject({ share: 0.5, cutStarts: 2, slackMs: 4_000 });
    expect(plan(cfg({ workers: 2 }), ids, { costs, startMs: 2_200, measured: 1 })).toMatchObject({ share: 0.9, cutStarts: 8 });
    // 200 workers: 1.05 s each, where even 300 ms is a dear start.
    expect(plan(cfg({ workers: 200 }), ids, { costs, startMs: 300, measured: 1 })).toMatchObject({ share: 0.9 });
    // Fitted costs keep 0.7, whatever the start cost.
    expect(plan(cfg({ workers: 2 }), ids, { costs, startMs: 300 })).toMatchObject({ share: 0.7 });
  });

  test('known costs fitted from walls (not measured by the runner): share 0.7, room to balance a fit\'s errors', () => {
    const costs = new Map(ids.map((id, i) => [id, (i + 1) * 1_000]));
    expect(plan(cfg({}), ids, { costs, startMs: 600 })).toMatchObject({ share: 0.7, cutStarts: 8 });
    expect(plan(cfg({}), ids, { costs, startMs: 600, measured: 0.5 })).toMatchObject({ share: 0.7 });
    expect(plan(cfg({ workers: 20 }), ids, { costs, startMs: 600, measured: 0.95 })).toMatchObject({ share: 0.9 });
  });

  test('mostly guessed costs: share 0.5, cuts allowed (a guess may hide a long test), batches of 4 start costs or more', () => {
    const costs = new Map(ids.slice(0, 17).map((id) => [id, 2_000]));
    expect(plan(cfg({}), ids, { costs, startMs: 1_500 })).toMatchObject({ share: 0.5, cutStarts: 0, minStarts: 4 });
    const none = plan(cfg({}), ids, { costs: new Map(), startMs: null });
    expect(none).toMatchObject({ share: 0.5, cutStarts: 0, startMs: 0, order: ids, batchMs: 60_000, guessMs: DEFAULT_COST_MS });
    expect(none.costs.size).toBe(0);
  });

  test('timings off: listed order, no start cost; batch-duration in seconds is taken as given', () => {
    const costs = new Map(ids.map((id, i) => [id, (i + 1) * 1_000]));
    const p = plan(cfg({ timings: false, batchDuration: 30 }), ids, { costs, startMs: 1_500 });
    expect(p).toMatchObject({ order: ids, startMs: 0, batchMs: 30_000, guessMs: DEFAULT_COST_MS });
    expect(p.costs.size).toBe(0);
  });

  test('auto batch target: at least a minute, at least 20 start costs', () => {
    expect(autoBatchMs(0)).toBe(60_000);
    expect(autoBatchMs(5_000)).toBe(100_000);
  });
});
