// Quoting text for a shell and for a regular expression: shared by the presets (the commands they
// render) and the worker (the commands it runs).

/** POSIX single-quote quoting: nothing inside '...' is special, so only ' itself needs care. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** s matched literally in a RegExp, also between the slashes of a /regexp/ literal. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
