// Fitting the job summary under its size limit: each section (a Block) gets a share of the bytes, and
// one that does not fit in full shows what fits and says how many items it left out.

/** A summary section whose items may be cut to keep the summary under its size limit. */
export interface Block {
  head: string; // always kept: title, table header, opening fence
  items: string[]; // each ends with '\n'
  tail: string; // always kept: closing fence
  what: string; // names the items in the truncation note
  hidden: number; // items already left out by a count cap
}

function truncationNote(b: Block, left: number): string {
  return left > 0 ? `\n_…and ${left} more ${b.what} not shown._\n` : '';
}

/** Bytes of the block rendered in full. */
export function blockSize(b: Block): number {
  let n = bytes(b.head) + bytes(b.tail) + bytes(truncationNote(b, b.hidden));
  for (const item of b.items) n += bytes(item);
  return n;
}

/** Renders a block within `budget` bytes, or '' when not even its frame fits. */
export function renderBlock(b: Block, budget: number): string {
  if (blockSize(b) <= budget) return b.head + b.items.join('') + b.tail + truncationNote(b, b.hidden);
  // Reserve room for the longest note this block could need.
  let used = bytes(b.head) + bytes(b.tail) + bytes(truncationNote(b, b.items.length + b.hidden));
  if (used > budget) return '';
  let shown = 0;
  for (const item of b.items) {
    const n = bytes(item);
    if (used + n > budget) break;
    used += n;
    shown++;
  }
  return b.head + b.items.slice(0, shown).join('') + b.tail + truncationNote(b, b.items.length - shown + b.hidden);
}

/** Splits `total` among blocks: small ones get all they need, big ones an equal part of the rest. */
export function share(needs: number[], total: number): number[] {
  const out = needs.map(() => 0);
  const order = needs.map((_, i) => i).sort((a, b) => needs[a] - needs[b]);
  let left = Math.max(0, total);
  order.forEach((i, k) => {
    out[i] = Math.min(needs[i], Math.floor(left / (order.length - k)));
    left -= out[i];
  });
  return out;
}

/** Last resort for a limit too small for the header: cut at a line end, which is a character boundary. */
export function clampBytes(text: string, maxBytes: number, note = '\n_(summary truncated)_\n'): string {
  if (bytes(text) <= maxBytes) return text;
  const room = maxBytes - bytes(note);
  if (room <= 0) return '';
  const buf = Buffer.from(text, 'utf8').subarray(0, room);
  return buf.subarray(0, buf.lastIndexOf(0x0a) + 1).toString('utf8') + note;
}

export function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
