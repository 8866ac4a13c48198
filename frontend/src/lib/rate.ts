// Transfer speed and time left of an upload, over a sliding window: the
// bytes sent in the last `windowMs` over that time, so that a pause, a
// stall or a burst shows within seconds instead of being averaged over the
// whole upload. Pure (the clock is passed in).

export interface RateSample {
  at: number
  bytes: number
}

export class RateMeter {
  private samples: RateSample[] = []
  private readonly windowMs: number

  constructor(windowMs = 5000) {
    this.windowMs = windowMs
  }

  /** Records that `bytes` (a running total) were sent by time `at` (ms). */
  add(bytes: number, at: number): void {
    const last = this.samples[this.samples.length - 1]
    if (last && bytes < last.bytes) this.samples = [] // a restart from an earlier offset
    this.samples.push({ at, bytes })
    const from = at - this.windowMs
    while (this.samples.length > 2 && this.samples[1]!.at <= from) this.samples.shift()
  }

  /** Forgets the samples (a pause: time not sending is not counted). */
  reset(): void {
    this.samples = []
  }

  /** Bytes per second over the window; null until there are 500 ms of samples. */
  rate(): number | null {
    const first = this.samples[0]
    const last = this.samples[this.samples.length - 1]
    if (!first || !last || last.at - first.at < 500) return null
    return (last.bytes - first.bytes) / ((last.at - first.at) / 1000)
  }

  /** Milliseconds left to send `total` at the current rate; null when unknown. */
  etaMs(total: number): number | null {
    const r = this.rate()
    const last = this.samples[this.samples.length - 1]
    if (r === null || !last) return null
    if (last.bytes >= total) return 0
    return r > 0 ? ((total - last.bytes) / r) * 1000 : null
  }
}
