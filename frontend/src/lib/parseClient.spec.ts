import { describe, expect, it } from 'vitest'
import { prepareUpload } from './parseClient'
import { digits, tabular } from './testModels'
import { specFromModel } from './validate'

const d = specFromModel(digits)
const t = specFromModel(tabular)
const row = JSON.stringify(Array(64).fill(1))

describe('prepareUpload', () => {
  it('sends NDJSON as it is and keeps no items of it, even with invalid rows (the page decides)', async () => {
    const r = await prepareUpload(new Blob([`${row}\n[1]\n${row}\n`]), 'a.ndjson', d)
    expect(r.raw).toBe('application/x-ndjson')
    expect(r.rawFrom).toBe(0)
    expect(r.body).toBeUndefined()
    expect(r.lines.length).toBe(0)
    expect(r.summary).toMatchObject({ count: 3, badCount: 1, bad: [{ item: 1, line: 2 }] })
    expect(r.ms).toBeGreaterThanOrEqual(0)
  })

  it('skips a byte order mark when the file goes as it is', async () => {
    const r = await prepareUpload(new Blob([new Uint8Array([0xef, 0xbb, 0xbf]), 'x,y,z\n1,2,3\n']), 'a.csv', t)
    expect(r.raw).toBe('text/csv')
    expect(r.rawFrom).toBe(3)
    expect(r.summary.count).toBe(1)
  })

  it('turns what the gateway does not read as it is into a JSON body: ; or tabs, a header for a model without features', async () => {
    const semi = await prepareUpload(new Blob(['x;y;z\n1;2;3\n']), 'a.csv', t)
    expect(semi.raw).toBeUndefined()
    expect(JSON.parse(new TextDecoder().decode(semi.body!))).toMatchObject({ model: 'iris', inputs: [[1, 2, 3]] })
    expect(Array.from(semi.lines)).toEqual([2])
    const header = Array.from({ length: 64 }, (_, i) => `p${i}`).join(',')
    const named = await prepareUpload(new Blob([`${header}\n${Array(64).fill(2).join(',')}\n`]), 'd.csv', d)
    expect(named.raw).toBeUndefined()
    expect(named.body).toBeDefined()
  })

  it('reads an unnamed file by its content, and refuses binary data', async () => {
    expect((await prepareUpload(new Blob([`${row}\n${row}\n`]), 'blob', d)).summary.format).toBe('ndjson')
    expect((await prepareUpload(new Blob([`[${row},${row}]`]), 'blob', d)).summary).toMatchObject({ format: 'json', count: 2 })
    const bin = await prepareUpload(new Blob([new Uint8Array([0, 1, 2, 0, 5])]), 'x.csv', d)
    expect(bin.summary.fileError).toContain('not text')
  })

  it('stops reading a CSV at a header that does not fit', async () => {
    const r = await prepareUpload(new Blob(['a,b,c,d\n1,2,3,4\n'.repeat(1000)]), 'a.csv', t)
    expect(r.summary.fileError).toContain('does not name the model')
    expect(r.summary.count).toBe(0)
  })
})
