// The terminal of `shardless run`: the children's lines, prefixed and coloured, and on a terminal a
// live progress line at the bottom (from the controller's progress figures).
import { timeLeft, type RunProgress } from '../controller/controller.js';

/** The live line's figures. */
export function progressStats(p: RunProgress): string {
  const left = timeLeft(p);
  return `${p.done}/${p.total} done · ${p.running} running · ${p.queued + p.requeued} queued · ${p.live} live workers${left ? ` · ${left}` : ''}`;
}

const COLORS = [36, 33, 32, 35, 34, 91, 92, 93, 94, 95, 96];

export class Display {
  private progress = '';
  private readonly tty: boolean;
  private readonly color: boolean;
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  private stats = '';
  constructor(private readonly out: NodeJS.WriteStream, private readonly liveWorkers: () => number, private readonly total: number) {
    this.tty = out.isTTY === true;
    this.color = this.tty && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
    if (this.tty) {
      this.timer = setInterval(() => this.redraw(), 500);
      this.timer.unref();
    }
  }

  paint(text: string, i: number): string {
    return this.color ? `\x1b[${COLORS[i % COLORS.length]}m${text}\x1b[0m` : text;
  }

  dim(text: string): string {
    return this.color ? `\x1b[2m${text}\x1b[0m` : text;
  }

  private clear(): void {
    if (this.tty && this.progress) this.out.write('\r\x1b[K');
  }

  private draw(): void {
    if (!this.tty) return;
    const secs = Math.round((Date.now() - this.started) / 1000);
    const stats = this.stats || `starting ${this.liveWorkers()}/${this.total} workers`;
    const text = `shardless run: ${stats} · ${secs} s`;
    const width = Math.max(20, (this.out.columns > 0 ? this.out.columns : 80) - 1);
    this.progress = [...text].length > width ? `${[...text].slice(0, width - 1).join('')}…` : text;
    this.out.write(this.dim(this.progress));
  }

  private redraw(): void {
    this.clear();
    this.draw();
  }

  line(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
    this.draw();
  }

  setStats(stats: string): void {
    this.stats = stats;
    this.redraw();
  }

  done(): void {
    clearInterval(this.timer);
    this.clear();
    this.progress = '';
  }
}
