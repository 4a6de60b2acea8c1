// The static split of the fallback (src/sizing/split.ts): identical on every worker whatever the order the
// tests were listed in, every test in exactly one share, balanced by count or by timings (LPT).
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { staticShares } from '../src/sizing/split.js';
import type { Timings } from '../src/sizing/costmodel.js';

const timings = (costs: Record<string, number>): Timings => ({ costs: new Map(Object.entries(costs)), startMs: null });
const load = (share: string[], costs: Record<string, number>) => share.reduce((a, id) => a + costs[id], 0);

describe('by count', () => {
  test('contiguous runs of the sorted ids, sizes differing by one at most', () => {
    expect(staticShares(['e', 'a', 'd', 'b', 'c'], 2)).toEqual([['a', 'b', 'c'], ['d', 'e']]);
    expect(staticShares(['a', 'b'], 3)).toEqual([['a'], ['b'], []]);
    expect(staticShares(['x'], 1)).toEqual([['x']]);
  });

  test('by code units, not by locale', () => {
    expect(staticShares(['b', 'B', 'a', 'A'], 4)).toEqual([['A'], ['B'], ['a'], ['b']]);
  });

  test('a timings file that knows none of the tests splits by count', () => {
    expect(staticShares(['b', 'a'], 2, timings({ other: 5 }))).toEqual([['a'], ['b']]);
  });

  test('no worker is an error', () => {
    expect(() => staticShares(['a'], 0)).toThrow(/at least one worker/);
  });
});

describe('by timings', () => {
  test('longest first, each to the least loaded share', () => {
    const costs = { a: 1, b: 9, c: 5, d: 4, e: 3, f: 2 };
    const shares = staticShares(Object.keys(costs), 2, timings(costs));
    // 9 -> 0; 5 -> 1; 4 -> 1 (5 < 9); 3 -> 0 (9 = 9: the lower index); 2 -> 1 (11 < 12); 1 -> 1 (11 < 12)
    expect(shares).toEqual([['b', 'e'], ['c', 'd', 'f', 'a']]);
    expect(shares.map((s) => load(s, costs))).toEqual([12, 12]);
  });

  test('an unknown test costs the median of the known ones; equal costs go by id', () => {
    const shares = staticShares(['u2', 'k1', 'u1', 'k2'], 2, timings({ k1: 10, k2: 30 }));
    // u1 and u2 cost 20 (the median of 10 and 30): k2 30 -> 0; u1 20 -> 1; u2 20 -> 1 (20 < 30); k1 10 -> 0
    expect(shares).toEqual([['k2', 'k1'], ['u1', 'u2']]);
  });
});

describe('properties', () => {
  const idList = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 0, maxLength: 60 });

  test('every id in exactly one share, whatever the listed order; the same shares on every worker', () => {
    fc.assert(fc.property(idList, fc.integer({ min: 1, max: 9 }), fc.boolean(), fc.integer(), (ids, workers, withCosts, seed) => {
      const costs = withCosts ? timings(Object.fromEntries(ids.filter((_, i) => (i + seed) % 3 !== 0).map((id, i) => [id, (i * 37 + seed) % 1000]))) : undefined;
      const shares = staticShares(ids, workers, costs);
      expect(shares).toHaveLength(workers);
      expect(shares.flat().sort()).toEqual([...ids].sort());
      const shuffled = [...ids].reverse();
      expect(staticShares(shuffled, workers, costs)).toEqual(shares);
    }));
  });

  test('by count, share sizes differ by one at most; by timings, no share exceeds the mean by more than the longest test', () => {
    fc.assert(fc.property(idList, fc.integer({ min: 1, max: 9 }), (ids, workers) => {
      const sizes = staticShares(ids, workers).map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      const costs = Object.fromEntries(ids.map((id, i) => [id, 1 + ((i * 7919) % 500)]));
      const loads = staticShares(ids, workers, timings(costs)).map((s) => load(s, costs));
      const total = Object.values(costs).reduce((a, c) => a + c, 0);
      const longest = Math.max(0, ...Object.values(costs));
      for (const l of loads) expect(l).toBeLessThanOrEqual(total / workers + longest);
    }));
  });
});
