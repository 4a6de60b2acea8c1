// The Redis key layout (src/queue/keys.ts): one hash tag per run, and no two runs (or queues) share a key,
// whatever their names hold.
import { describe, expect, test } from 'vitest';
import { runKeys, scriptKeys, timingsKeys } from '../src/queue/keys.js';

/** The hash tag Redis Cluster hashes: from the first `{` to the first `}` after it. */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = key.indexOf('}', open + 1);
  return key.slice(open + 1, close);
}

describe('runKeys', () => {
  test('every key of a run, heartbeats included, has the same hash tag: the whole repo/queue/run', () => {
    const k = runKeys('octo/repo', 'unit', '123-1');
    const all = [...scriptKeys(k, `${k.hbPrefix}w1`), k.controller];
    expect(new Set(all.map(hashTag))).toEqual(new Set(['octo/repo/unit/123-1']));
    expect(k.prefix).toBe('shardless:{octo/repo/unit/123-1}:');
  });

  test('a / in a queue or run name cannot move the boundary between them', () => {
    const pairs: [string, string][] = [['a/b', 'c'], ['a', 'b/c'], ['a%2Fb', 'c'], ['a', 'b%2Fc']];
    const prefixes = pairs.map(([q, r]) => runKeys('o/r', q, r).prefix);
    expect(new Set(prefixes).size).toBe(pairs.length);
    expect(prefixes[0]).toBe('shardless:{o/r/a%2Fb/c}:');
  });

  test('braces cannot end the hash tag early, nor meet a name that had an underscore', () => {
    const names = ['x}y', 'x_y', 'x{y', 'x%7Dy'];
    const keys = names.map((q) => runKeys('o/r', q, 'r').meta);
    expect(new Set(keys).size).toBe(names.length);
    for (const [i, k] of keys.entries()) expect(hashTag(k), names[i]).not.toMatch(/[{}]/);
    expect(hashTag(keys[0])).toBe('o/r/x%7Dy/r');
  });
});

describe('timingsKeys', () => {
  test('per repository and queue, encoded the same way, outside every run key', () => {
    const a = timingsKeys('o/r', 'a/b');
    const b = timingsKeys('o/r', 'a%2Fb');
    expect(a.costs).not.toBe(b.costs);
    expect(hashTag(a.costs)).toBe('o/r/a%2Fb');
    expect(a.costs.startsWith('shardless:timings:{')).toBe(true);
  });
});
