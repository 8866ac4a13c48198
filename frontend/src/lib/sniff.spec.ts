import { describe, expect, it } from 'vitest'
import { sniff } from './sniff'

const bytes = (...xs: number[]) => new Uint8Array(xs)
const text = (s: string) => new TextEncoder().encode(s)

describe('sniff', () => {
  it.each([
    ['a spreadsheet', bytes(0x50, 0x4b, 0x03, 0x04, 0x14, 0, 6, 0), 'data.xlsx', /spreadsheet \(\.xlsx\), not a CSV file: save it as CSV/],
    ['a zip', bytes(0x50, 0x4b, 0x03, 0x04, 0x14), 'data.zip', /ZIP archive/],
    ['an old workbook', bytes(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1), 'data.xls', /Office document/],
    ['a PDF', text('%PDF-1.7\n'), 'report.pdf', /PDF/],
    ['gzip', bytes(0x1f, 0x8b, 8, 0), 'rows.csv.gz', /compressed/],
    ['a PNG', bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a), 'x.png', /image/],
    ['UTF-16', bytes(0xff, 0xfe, 0x31, 0x00), 'rows.csv', /UTF-16/],
    ['binary', bytes(1, 2, 3, 0, 5, 6), 'blob.bin', /not text .* \.bin file/],
    ['invalid UTF-8', bytes(0x31, 0x2c, 0xc3, 0x28, 0x0a), 'rows.txt', /not text/],
  ])('refuses %s', (_, head, name, reason) => {
    const r = sniff(head, name)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.reason).toMatch(reason)
  })

  it('accepts text, with or without a byte order mark, and a character cut at the end of the head', () => {
    expect(sniff(text('1,2,3\n4,5,6\n'), 'rows.txt')).toEqual({ ok: true, bom: false })
    expect(sniff(new Uint8Array([0xef, 0xbb, 0xbf, ...text('a,b\n1,2\n')]), 'rows.csv')).toEqual({ ok: true, bom: true })
    expect(sniff(text('["é"]').subarray(0, 3), 'x.ndjson')).toEqual({ ok: true, bom: false })
  })
})
