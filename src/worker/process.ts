// The process a batch runs as: the leader of its own process group, so that a timeout, a cancellation or
// its own exit takes down every descendant; and what Linux lets a spawn carry.

/** Time between SIGTERM and SIGKILL on a timeout. */
const KILL_GRACE_MS = 2000;

/** Linux caps each argv or environment string at 128 KiB (MAX_ARG_STRLEN): spawn fails with E2BIG. */
export const fitsExec = (s: string): boolean => Buffer.byteLength(s) < 128 * 1024;

/** Signals a whole process group; never throws (the group may be gone already). */
export function killProcessGroup(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  // -0 or -1 would signal our own group or every process we can reach.
  if (!Number.isInteger(pid) || pid <= 1) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: nothing left to kill.
  }
}

/**
 * After timeoutMs: onTimeout(), SIGTERM to the group, SIGKILL KILL_GRACE_MS later (that only matters when
 * the leader survives SIGTERM: its exit kills the rest). Returns the function that disarms both.
 */
export function armTimeout(pid: number, timeoutMs: number, onTimeout: () => void): () => void {
  let killTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    onTimeout();
    killProcessGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => killProcessGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
  }, timeoutMs);
  return () => {
    clearTimeout(timer);
    clearTimeout(killTimer);
  };
}
