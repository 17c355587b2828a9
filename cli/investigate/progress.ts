// Progress of an export on stderr: a line a second with rows so far and the rate (redrawn in
// place on a terminal), and a summary at the end. Rows are counted from line ends as the body
// streams; the API's X-AgentTrail-Rows trailer, when it came, is the exact figure at the end.

export class ExportProgress {
  private rows = 0;
  private bytes = 0;
  private last = 0;
  private drawn = false;
  private readonly started: number;

  constructor(
    private readonly write: (s: string) => void,
    private readonly opts: { tty: boolean; quiet: boolean; everyMs?: number; now?: () => number },
  ) {
    this.started = this.now();
    // The first line after a second: a short export prints only its summary.
    this.last = this.started;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** A chunk of the body went out. */
  chunk(buf: Buffer): void {
    this.bytes += buf.length;
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) this.rows++;
    const t = this.now();
    if (!this.opts.quiet && t - this.last >= (this.opts.everyMs ?? 1000)) {
      this.last = t;
      this.drawn = true;
      this.write(`${this.opts.tty ? '\r' : ''}export: ${this.line(t)}${this.opts.tty ? '' : '\n'}`);
    }
  }

  /** Lines written so far (header and verdict lines included). */
  get lines(): number {
    return this.rows;
  }

  private line(t: number, rows = this.rows): string {
    const s = Math.max(0.001, (t - this.started) / 1000);
    return `${rows} rows, ${(this.bytes / 1e6).toFixed(1)} MB, ${Math.round(rows / s)} rows/s`;
  }

  done(rows: number, where: string): void {
    if (this.opts.quiet) return;
    const t = this.now();
    const s = ((t - this.started) / 1000).toFixed(1);
    this.write(`${this.opts.tty && this.drawn ? '\n' : ''}export: ${rows} rows in ${s} s → ${where}\n`);
  }
}
