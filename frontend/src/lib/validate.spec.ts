import { describe, expect, it } from 'vitest'
import { digits, tabular } from './testModels'
import { checkValues, describeItem, flattenToShape, specFromModel, validateItem } from './validate'

const d = specFromModel(digits)
const t = specFromModel(tabular)
const flat = (v = 1) => Array.from({ length: 64 }, () => v)

function b64Floats(values: number[]): string {
  const buf = new ArrayBuffer(values.length * 4)
  const dv = new DataView(buf)
  values.forEach((v, i) => dv.setFloat32(i * 4, v, true))
  let s = ''
  for (const b of new Uint8Array(buf)) s += String.fromCharCode(b)
  return btoa(s)
}

describe('specFromModel', () => {
  it('takes item size, shape, range and features from the metadata', () => {
    expect(d).toMatchObject({ itemSize: 64, shape: [8, 8, 1], min: 0, max: 16, acceptsImages: true })
    expect(t).toMatchObject({ itemSize: 3, features: ['x', 'y', 'z'], acceptsImages: false })
    expect(t.min).toBeUndefined()
  })
})

describe('validateItem', () => {
  it('accepts flat and nested arrays of the right size', () => {
    expect(validateItem(flat(), d)).toBeNull()
    const nested = Array.from({ length: 8 }, () => Array.from({ length: 8 }, () => [3]))
    expect(validateItem(nested, d)).toBeNull()
  })

  it('flags wrong sizes and shapes', () => {
    expect(validateItem(flat().slice(1), d)).toBe('expected 64 values, got 63')
    const badNested = Array.from({ length: 8 }, () => Array.from({ length: 7 }, () => [3]))
    expect(validateItem(badNested, d)).toMatch(/expected 8 entries at \[0\], got 7/)
    expect(flattenToShape([[1, 2], 3], [2, 2])).toMatch(/expected an array of 2/)
  })

  it('flags non-numbers, non-finite values and out-of-range values', () => {
    const a = flat()
    a[5] = 'x' as unknown as number
    expect(validateItem(a, d)).toBe('value 5 is not a number (string)')
    const b = flat()
    b[7] = null as unknown as number
    expect(validateItem(b, d)).toBe('value 7 is not a number (null)')
    const c = flat()
    c[9] = 17
    expect(validateItem(c, d)).toBe('value 9 = 17 is above the maximum 16')
    c[9] = -0.5
    expect(validateItem(c, d)).toBe('value 9 = -0.5 is below the minimum 0')
    expect(checkValues([1, Infinity, 2], t)).toBe('value 1 (y) is not a finite number')
  })

  it('checks b64 items: length and decoded values', () => {
    expect(validateItem({ b64: b64Floats(flat(2)) }, d)).toBeNull()
    expect(validateItem({ b64: b64Floats(flat(2).slice(1)) }, d)).toMatch(/holds 252 bytes, expected 256/)
    const v = flat(2)
    v[3] = 99
    expect(validateItem({ b64: b64Floats(v) }, d)).toBe('value 3 = 99 is above the maximum 16')
    expect(validateItem({ b64: '***' }, d)).toBe('"b64" is not valid base64')
  })

  it('accepts images only for image models', () => {
    expect(validateItem({ image: 'iVBORw0KGgo=' }, d)).toBeNull()
    expect(validateItem({ image: 'iVBORw0KGgo=' }, t)).toBe('model iris does not accept images')
    expect(validateItem({ image: 'data:image/png;base64,AAAA' }, d)).toMatch(/not a data: URL/)
  })

  it('checks features by name', () => {
    expect(validateItem({ features: { x: 1, y: 2, z: 3 } }, t)).toBeNull()
    expect(validateItem({ features: { x: 1, y: 2 } }, t)).toBe('missing feature "z"')
    expect(validateItem({ features: { x: 1, y: 2, z: 3, w: 4 } }, t)).toBe('unknown feature "w"')
    expect(validateItem({ features: { x: 1, y: '2', z: 3 } }, t)).toBe('feature "y" is not a number (string)')
    expect(validateItem({ features: { x: 1 } }, d)).toMatch(/has no named features/)
  })

  it('rejects other shapes of item', () => {
    expect(validateItem(5, d)).toMatch(/expected an array of 64 numbers/)
    expect(validateItem({ pixels: [] }, d)).toMatch(/unknown item form "pixels"/)
    expect(validateItem({ b64: '', image: '' }, d)).toMatch(/exactly one of/)
  })
})

describe('describeItem', () => {
  it('summarises items for the preview', () => {
    expect(describeItem([1, 2, 3], 2)).toBe('[1, 2, … (3)]')
    expect(describeItem({ features: { x: 1.5, y: 2 } })).toBe('x=1.5, y=2')
    expect(describeItem({ b64: 'AAAA' })).toBe('b64 (4 chars)')
  })
})
