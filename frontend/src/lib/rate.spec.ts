import { describe, expect, it } from 'vitest'
import { RateMeter } from './rate'

describe('RateMeter', () => {
  it('says nothing before half a second of samples', () => {
    const m = new RateMeter()
    m.add(0, 0)
    m.add(1000, 400)
    expect(m.rate()).toBeNull()
    expect(m.etaMs(10_000)).toBeNull()
  })

  it('measures over its window, not the whole transfer', () => {
    const m = new RateMeter(2000)
    // 1 MB/s for 10 s, then 4 MB/s
    for (let t = 0; t <= 10_000; t += 250) m.add(t * 1000, t)
    expect(m.rate()).toBeCloseTo(1_000_000, -3)
    let bytes = 10_000_000
    for (let t = 10_250; t <= 14_000; t += 250) m.add((bytes += 1_000_000), t)
    expect(m.rate()).toBeCloseTo(4_000_000, -4)
    expect(m.etaMs(bytes + 8_000_000)).toBeCloseTo(2000, -2)
  })

  it('starts again after a reset or from an earlier offset', () => {
    const m = new RateMeter()
    m.add(0, 0)
    m.add(5_000_000, 1000)
    m.reset()
    m.add(5_000_000, 60_000) // resumed a minute later: the pause is not counted
    m.add(6_000_000, 61_000)
    expect(m.rate()).toBe(1_000_000)
    m.add(2_000_000, 62_000) // the server kept less than was sent
    m.add(3_000_000, 63_000)
    expect(m.rate()).toBe(1_000_000)
    expect(m.etaMs(3_000_000)).toBe(0)
  })
})
