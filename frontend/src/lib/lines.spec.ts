import { describe, expect, it } from 'vitest'
import { eachLine, LineTooLongError } from './lines'

async function collect(b: Blob, chunkBytes: number, maxLineChars?: number): Promise<[string, number][]> {
  const out: [string, number][] = []
  await eachLine(b, (t, n) => out.push([t, n]), { chunkBytes, maxLineChars })
  return out
}

describe('eachLine', () => {
  it('gives every line with its number, across slice boundaries of any size', async () => {
    const text = 'héllo,wörld\r\n\n€1,2\r\nlast'
    const b = new Blob([text])
    const want: [string, number][] = [
      ['héllo,wörld', 1],
      ['', 2],
      ['€1,2', 3],
      ['last', 4],
    ]
    for (const chunk of [1, 2, 3, 5, 7, 1 << 20]) expect(await collect(b, chunk)).toEqual(want)
  })

  it('drops a byte order mark and a final newline, and reports the bytes read', async () => {
    const b = new Blob([new Uint8Array([0xef, 0xbb, 0xbf]), 'a\nb\n'])
    const seen: number[] = []
    const lines: string[] = []
    const n = await eachLine(b, (t) => lines.push(t), { chunkBytes: 2, onBytes: (r) => seen.push(r) })
    expect(lines).toEqual(['a', 'b'])
    expect(n).toBe(2)
    expect(seen).toEqual([2, 4, 6, 7])
  })

  it('stops when asked, and refuses a line too long to be an item', async () => {
    let lines = 0
    await eachLine(new Blob(['1\n2\n3\n4\n']), () => lines++, { chunkBytes: 2, stopped: () => lines >= 2 })
    expect(lines).toBe(2)
    await expect(collect(new Blob(['ok\n' + 'x'.repeat(100)]), 8, 50)).rejects.toBeInstanceOf(LineTooLongError)
    await expect(collect(new Blob(['ok\n' + 'x'.repeat(100)]), 8, 50)).rejects.toThrow('line 2 is longer than')
  })
})
