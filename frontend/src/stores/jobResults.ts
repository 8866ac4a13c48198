// Per-job result storage, kept outside Vue's deep reactivity (100k rows): a
// dense array by item index plus counters; `version` is the only reactive bit
// and is bumped (coalesced) after each applied batch.
import { ref, type Ref } from 'vue'
import { isFailure, isSkipped, type ItemResult } from '@/api/types'

export class JobResults {
  readonly job: string
  total = 0
  /** Results by item index. */
  readonly byIndex: (ItemResult | undefined)[] = []
  /** Unique indices received. */
  received = 0
  failed = 0
  /** Items not run (cancelled, deadline): neither done nor failed. */
  skipped = 0
  /** Items that arrived for an index already filled (should stay 0). */
  duplicates = 0
  /** Item indices in the order they were applied (for checks and the debug hook). */
  readonly arrival: number[] = []
  /** Successful predictions per class. */
  readonly classCounts: number[] = []
  /** Indices of failed items (not skipped ones), in arrival order. */
  readonly errors: number[] = []
  /** Highest result seq applied. */
  lastSeq = 0
  /** Results frames ignored because their seq was not above lastSeq. */
  staleFrames = 0
  ended = false
  /** Some results were loaded over HTTP (fallback): a later WebSocket replay then overlaps by design. */
  loadedOverHttp = false
  readonly version: Ref<number> = ref(0)
  private filledCache: Int32Array | null = null
  private bumpTimer: ReturnType<typeof setTimeout> | null = null
  private readonly coalesceMs: number

  constructor(job: string, coalesceMs = 80) {
    this.job = job
    this.coalesceMs = coalesceMs
  }

  setTotal(total: number): void {
    if (total > this.total) {
      this.total = total
      this.filledCache = null
      this.bump()
    }
  }

  /** Applies a results frame; returns false when it was stale (seq ≤ lastSeq). */
  applyFrame(seq: number, items: ItemResult[]): boolean {
    if (!(seq > this.lastSeq)) {
      this.staleFrames++
      return false
    }
    this.lastSeq = seq
    this.applyItems(items)
    return true
  }

  applyItems(items: ItemResult[]): void {
    for (const r of items) {
      const i = r.index
      if (!Number.isInteger(i) || i < 0) continue
      this.arrival.push(i)
      if (this.byIndex[i] !== undefined) {
        if (!this.loadedOverHttp) this.duplicates++
        continue
      }
      this.byIndex[i] = r
      this.received++
      if (i >= this.total) this.total = i + 1
      if (isSkipped(r)) this.skipped++
      else if (isFailure(r)) {
        this.failed++
        this.errors.push(i)
      } else if (Number.isInteger(r.class) && r.class >= 0) {
        while (this.classCounts.length <= r.class) this.classCounts.push(0)
        this.classCounts[r.class]! += 1
      }
    }
    this.filledCache = null
    this.bump()
  }

  /** Applies a page of GET /v1/jobs/{id}/results (fallback while the WebSocket is down). */
  applyHttpPage(items: ItemResult[]): void {
    this.loadedOverHttp = true
    this.applyItems(items.filter((r) => this.byIndex[r.index] === undefined))
  }

  /** Indices that have a result, ascending (cached until the next change). */
  filled(): Int32Array {
    if (this.filledCache) return this.filledCache
    const out = new Int32Array(this.received)
    let k = 0
    for (let i = 0; i < this.byIndex.length && k < out.length; i++) if (this.byIndex[i] !== undefined) out[k++] = i
    this.filledCache = out
    return out
  }

  /** Results in index order. */
  *rows(): Generator<ItemResult> {
    for (const r of this.byIndex) if (r !== undefined) yield r
  }

  private bump(): void {
    if (this.coalesceMs <= 0) {
      this.version.value++
      return
    }
    if (this.bumpTimer) return
    this.bumpTimer = setTimeout(() => {
      this.bumpTimer = null
      this.version.value++
    }, this.coalesceMs)
  }

  /** Flush a pending coalesced update now (tests, end of job). */
  flush(): void {
    if (this.bumpTimer) {
      clearTimeout(this.bumpTimer)
      this.bumpTimer = null
    }
    this.version.value++
  }
}
