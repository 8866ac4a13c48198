import { describe, expect, it } from 'vitest'
import { float32Base64 } from './float32'
import { letterItemView, SHOWN_VALUES } from './letterItems'

const b64 = (bytes: number[] | string) => btoa(typeof bytes === 'string' ? bytes : String.fromCharCode(...bytes))

describe('letterItemView', () => {
  it('a tensor: its first values as float32, little-endian', () => {
    const v = letterItemView({ index: 256, line: 258, kind: 'tensor', data_b64: float32Base64([0, 5, 13.5, 0.1]) })
    expect(v).toEqual({ where: 'item 256, line 258', kind: 'tensor', text: '4 values: 0, 5, 13.5, 0.1' })
    const long = letterItemView({ index: 1, kind: 'tensor', data_b64: float32Base64(Array.from({ length: 64 }, (_, i) => i)) })
    expect(long.text).toMatch(/^64 values: 0, 1, .*, 15, …$/)
    expect(long.text.split(',')).toHaveLength(SHOWN_VALUES + 1)
    expect(letterItemView({ index: 1, kind: 'tensor', data_b64: b64([1, 2, 3]) }).text).toBe('3 B, not a whole number of float32 values')
  })

  it('an image: its format and size; an invalid input: its reason; an id column', () => {
    expect(letterItemView({ index: 3, id: 'a-17', kind: 'image', data_b64: b64([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10]) })).toEqual({
      where: 'item 3, id a-17',
      kind: 'image',
      text: 'PNG image, 8 B',
    })
    expect(letterItemView({ index: 3, kind: 'image', data_b64: b64([0xff, 0xd8, 0xff, 0]) }).text).toBe('JPEG image, 4 B')
    expect(letterItemView({ index: 3, kind: 'image', data_b64: b64('GIF89a') }).text).toBe('GIF image, 6 B')
    const reason = new TextEncoder().encode('line 4: 63 values, want 64 — ü')
    expect(letterItemView({ index: 4, line: 4, kind: 'invalid', data_b64: b64(Array.from(reason)) }).text).toBe('invalid input: line 4: 63 values, want 64 — ü')
    expect(letterItemView({ index: 4, kind: 'tensor', data_b64: '%%%' }).text).toBe('not readable (its data is not base64)')
  })
})
