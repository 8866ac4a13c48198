import { describe, expect, it } from 'vitest'
import { JobResults } from './jobResults'
import { items } from '@/api/testing/fakeSocket'

describe('JobResults', () => {
  it('stores results by index, counts classes and errors', () => {
    const r = new JobResults('j', 0)
    r.setTotal(5)
    expect(r.applyFrame(10, [...items(0, 2), { index: 3, error: 'boom' }])).toBe(true)
    expect(r.received).toBe(3)
    expect(r.failed).toBe(1)
    expect(r.errors).toEqual([3])
    expect(r.classCounts).toEqual([1, 1])
    expect(Array.from(r.filled())).toEqual([0, 1, 3])
    expect([...r.rows()].map((x) => x.index)).toEqual([0, 1, 3])
    expect(r.version.value).toBeGreaterThan(0)
  })

  it('counts items skipped by a cancel apart: they are not failures', () => {
    const r = new JobResults('j', 0)
    r.applyFrame(1, [...items(0, 2), { index: 2, error: 'boom' }, { index: 3, error: 'job cancelled', skipped: true }, { index: 4, error: 'job cancelled', skipped: true }])
    expect(r.received).toBe(5)
    expect(r.failed).toBe(1)
    expect(r.skipped).toBe(2)
    expect(r.errors).toEqual([2])
  })

  it('ignores stale frames (seq ≤ last applied)', () => {
    const r = new JobResults('j', 0)
    r.applyFrame(10, items(0, 2))
    expect(r.applyFrame(10, items(0, 2))).toBe(false)
    expect(r.applyFrame(7, items(0, 2))).toBe(false)
    expect(r.staleFrames).toBe(2)
    expect(r.received).toBe(2)
    expect(r.arrival).toEqual([0, 1])
  })

  it('never stores an index twice', () => {
    const r = new JobResults('j', 0)
    r.applyFrame(1, items(0, 3))
    r.applyFrame(2, items(2, 3))
    expect(r.received).toBe(5)
    expect(r.duplicates).toBe(1)
    expect(r.classCounts.reduce((a, b) => a + b, 0)).toBe(5)
  })

  it('merges HTTP result pages with a later WebSocket replay without counting duplicates', () => {
    const r = new JobResults('j', 0)
    r.applyHttpPage(items(0, 5))
    r.applyHttpPage(items(3, 5)) // overlapping page
    expect(r.received).toBe(8)
    expect(r.arrival).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    r.applyFrame(1, items(0, 8)) // the socket comes back and replays from 0
    expect(r.received).toBe(8)
    expect(r.duplicates).toBe(0)
  })

  it('coalesces version bumps', async () => {
    const r = new JobResults('j', 20)
    for (let k = 0; k < 10; k++) r.applyFrame(k + 1, items(k, 1))
    expect(r.version.value).toBe(0)
    await new Promise((res) => setTimeout(res, 40))
    expect(r.version.value).toBe(1)
    r.flush()
    expect(r.version.value).toBe(2)
  })

  it('keeps 100k rows cheaply', { timeout: 60_000 }, () => {
    const r = new JobResults('j', 0)
    r.setTotal(100_000)
    for (let c = 0; c < 100_000 / 250; c++) r.applyFrame(c + 1, items(c * 250, 250))
    expect(r.received).toBe(100_000)
    expect(r.filled()).toHaveLength(100_000)
    expect(r.filled()[99_999]).toBe(99_999)
  })
})
