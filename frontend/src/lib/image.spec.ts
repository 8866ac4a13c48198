import { describe, expect, it } from 'vitest'
import type { ImagePreprocessing } from '@/api/types'
import { alphaToBinary, areaResize, blockCounts, fitTransform, inkToInput, rgbaToInput, strokesBox } from './image'

const digitsPre: ImagePreprocessing = { width: 8, height: 8, channels: 1, invert: true, range_min: 0, range_max: 16 }

/** A deterministic pseudo-random 32×32 binary bitmap. */
function bitmap(seed: number): Uint8Array {
  const b = new Uint8Array(32 * 32)
  let s = seed
  for (let i = 0; i < b.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff
    b[i] = s % 3 === 0 ? 1 : 0
  }
  return b
}

describe('areaResize', () => {
  it('averages whole blocks when the factor is an integer', () => {
    const src = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    expect(Array.from(areaResize(src, 4, 4, 2, 2))).toEqual([3.5, 5.5, 11.5, 13.5])
  })

  it('weights fractional overlaps by area', () => {
    // 3 → 2: first output covers pixel 0 fully and half of pixel 1.
    const out = areaResize([0, 3, 6], 3, 1, 2, 1)
    expect(out[0]).toBeCloseTo((0 * 1 + 3 * 0.5) / 1.5)
    expect(out[1]).toBeCloseTo((3 * 0.5 + 6 * 1) / 1.5)
  })

  it('preserves the mean and handles channels', () => {
    const src = Array.from({ length: 7 * 5 * 3 }, (_, i) => (i * 37) % 255)
    const out = areaResize(src, 7, 5, 3, 2, 3)
    for (let ch = 0; ch < 3; ch++) {
      const m1 = src.filter((_, i) => i % 3 === ch).reduce((a, b) => a + b, 0) / 35
      const m2 = Array.from(out).filter((_, i) => i % 3 === ch).reduce((a, b) => a + b, 0) / 6
      expect(m2).toBeCloseTo(m1, 6)
    }
  })
})

describe('32×32 binary → 8×8 digits input', () => {
  it('equals the 4×4 block counts (0..16), as in the scikit-learn digits', () => {
    for (const seed of [1, 2, 3, 42]) {
      const b = bitmap(seed)
      const counts = blockCounts(b, 32, 32, 4, 4)
      const values = inkToInput(b, 32, 32, digitsPre)
      expect(values).toHaveLength(64)
      expect(values).toEqual(counts)
      for (const v of values) {
        expect(Number.isInteger(v)).toBe(true)
        expect(v).toBeGreaterThanOrEqual(0)
        expect(v).toBeLessThanOrEqual(16)
      }
    }
  })

  it('maps empty and full blocks to 0 and 16', () => {
    const b = new Uint8Array(32 * 32)
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) b[y * 32 + x] = 1 // block (0,0) full
    b[5 * 32 + 5] = 1 // one pixel in block (1,1)
    const v = inkToInput(b, 32, 32, digitsPre)
    expect(v[0]).toBe(16)
    expect(v[9]).toBe(1)
    expect(v.reduce((a, x) => a + x, 0)).toBe(17)
  })

  it('replicates across channels and honours other ranges', () => {
    const b = new Uint8Array(16).fill(1)
    const v = inkToInput(b, 4, 4, { width: 2, height: 2, channels: 3, range_min: -1, range_max: 1 })
    expect(v).toEqual(Array(12).fill(1))
  })
})

describe('rgbaToInput', () => {
  it('converts dark ink on white to the digits scale (invert)', () => {
    // 16×16 white image with a black 4×4 square in the top-left corner.
    const w = 16
    const rgba = new Uint8ClampedArray(w * w * 4).fill(255)
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) rgba.set([0, 0, 0, 255], (y * w + x) * 4)
    const v = rgbaToInput(rgba, w, w, digitsPre)
    expect(v).toHaveLength(64)
    expect(v[0]).toBe(16) // fully inked 2×2 block
    expect(v[1]).toBe(16)
    expect(v[2]).toBe(0)
    expect(v.filter((x) => x > 0)).toHaveLength(4)
  })

  it('composites transparency over the background', () => {
    const rgba = new Uint8ClampedArray(4 * 4) // 2×2, fully transparent
    expect(rgbaToInput(rgba, 2, 2, { ...digitsPre, width: 1, height: 1 })).toEqual([0])
    expect(rgbaToInput(rgba, 2, 2, { width: 1, height: 1, channels: 3, invert: false, range_min: 0, range_max: 255 })).toEqual([0, 0, 0])
  })
})

describe('drawing helpers', () => {
  it('finds the stroke box and fits it into the grid, centred', () => {
    const box = strokesBox([
      [
        { x: 0.2, y: 0.1 },
        { x: 0.4, y: 0.9 },
      ],
    ])!
    expect(box.x).toBeCloseTo(0.2)
    expect(box.w).toBeCloseTo(0.2)
    expect(box.h).toBeCloseTo(0.8)
    const { scale, dx, dy } = fitTransform(box, 4, 32, 32)
    // Height limits: 0.8 × scale = 28.
    expect(0.8 * scale).toBeCloseTo(28)
    expect(0.1 * scale + dy).toBeCloseTo(2)
    expect(((0.2 + 0.4) / 2) * scale + dx).toBeCloseTo(16)
    expect(strokesBox([])).toBeNull()
  })

  it('binarises alpha', () => {
    const rgba = [0, 0, 0, 255, 0, 0, 0, 127, 0, 0, 0, 128, 0, 0, 0, 0]
    expect(Array.from(alphaToBinary(rgba, 4, 1))).toEqual([1, 0, 1, 0])
  })
})
