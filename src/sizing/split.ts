// The static split of the fallback (Redis unreachable): each worker computes every share from the same
// test list, so the shares are identical on every worker, and each runs its own without the others.
import { estimate, type Timings } from './costmodel.js';

/** By UTF-16 code units: the same order on every machine, whatever its locale. */
const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The shares of `workers` workers, share i for worker-index i. With costs known for some of the tests:
 * greedy longest-processing-time (longest first, each to the least loaded share, the lowest index on a
 * tie; an unknown test costs the median of the known ones). Otherwise: contiguous runs of the sorted ids,
 * sizes differing by one at most. Every id lands in exactly one share.
 */
export function staticShares(ids: string[], workers: number, timings?: Timings): string[][] {
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`a static split needs at least one worker, got ${workers}`);
  const sorted = [...new Set(ids)].sort(byId);
  const shares: string[][] = Array.from({ length: workers }, () => []);
  if (!timings || !sorted.some((id) => timings.costs.has(id))) {
    sorted.forEach((id, i) => shares[Math.floor((i * workers) / sorted.length)].push(id));
    return shares;
  }
  const cost = estimate(sorted, timings);
  const loads = new Array<number>(workers).fill(0);
  // sort is stable: equal costs keep the id order.
  for (const id of [...sorted].sort((a, b) => cost.get(b)! - cost.get(a)!)) {
    let least = 0;
    for (let i = 1; i < workers; i++) if (loads[i] < loads[least]) least = i;
    shares[least].push(id);
    loads[least] += cost.get(id)!;
  }
  return shares;
}
