/** Progress of one download: bytes, speed over a sliding window, and the time left at that speed. */

export interface DownloadProgress {
  readonly repo: string;
  readonly path: string;
  /** "checking": re-hashing a partial file before resuming; "downloading"; "verifying"; "done". */
  readonly phase: "checking" | "downloading" | "verifying" | "done";
  readonly receivedBytes: number;
  readonly totalBytes: number;
  /** Bytes per second over the last few seconds (0 until measurable). */
  readonly bytesPerSecond: number;
  /** Seconds left at the current speed; undefined while unknown. */
  readonly etaSeconds: number | undefined;
  /** Bytes that were already on disk when this run started (resumed). */
  readonly resumedFromBytes: number;
}

const WINDOW_MS = 5000;

/** Turns byte counts into throttled `DownloadProgress` reports (at most every `intervalMs`, and always at phase changes). */
export class DownloadProgressTracker {
  private readonly samples: { time: number; bytes: number }[] = [];
  private lastReport = 0;
  private resumedFrom = 0;

  constructor(
    private readonly repo: string,
    private readonly path: string,
    private readonly totalBytes: number,
    private readonly onProgress: ((progress: DownloadProgress) => void) | undefined,
    private readonly intervalMs = 100,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Marks where this run started from (the partial bytes kept). */
  startAt(bytes: number): void {
    this.resumedFrom = bytes;
    this.samples.length = 0;
    this.samples.push({ time: this.now(), bytes });
  }

  /** Reports `bytes` received so far; `force` bypasses the throttle. */
  update(phase: DownloadProgress["phase"], bytes: number, force = false): void {
    if (this.onProgress === undefined) return;
    const time = this.now();
    if (!force && time - this.lastReport < this.intervalMs) return;
    this.lastReport = time;
    if (phase === "downloading") {
      this.samples.push({ time, bytes });
      while (this.samples.length > 2 && time - (this.samples[0]?.time ?? time) > WINDOW_MS) this.samples.shift();
    }
    const first = this.samples[0];
    const elapsed = first === undefined ? 0 : (time - first.time) / 1000;
    const speed = first !== undefined && elapsed > 0.2 ? Math.max(0, (bytes - first.bytes) / elapsed) : 0;
    this.onProgress({
      repo: this.repo,
      path: this.path,
      phase,
      receivedBytes: bytes,
      totalBytes: this.totalBytes,
      bytesPerSecond: speed,
      etaSeconds: speed > 0 ? Math.max(0, (this.totalBytes - bytes) / speed) : phase === "done" ? 0 : undefined,
      resumedFromBytes: this.resumedFrom,
    });
  }
}
