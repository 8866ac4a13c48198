import { describe, expect, it } from 'vitest'
import { buildJobBody, detectFormat, parseCsv, parseJson, parseNdjson, parseText, splitCsvLine } from './parse'
import { digits, tabular } from './testModels'
import { specFromModel } from './validate'

const d = specFromModel(digits)
const t = specFromModel(tabular)
const row = (v = 1) => Array.from({ length: 64 }, () => v)

describe('detectFormat', () => {
  it('uses the extension, else sniffs the content', () => {
    expect(detectFormat('a.csv', '[1]')).toBe('csv')
    expect(detectFormat('a.jsonl', '')).toBe('ndjson')
    expect(detectFormat('a.NDJSON', '')).toBe('ndjson')
    expect(detectFormat('a.json', '')).toBe('json')
    expect(detectFormat('blob', '[[1,2],[3,4]]')).toBe('json')
    expect(detectFormat('blob', '[1,2]\n[3,4]\n')).toBe('ndjson')
    expect(detectFormat('blob', '1,2\n3,4')).toBe('csv')
  })
})

describe('parseNdjson', () => {
  it('parses one item per line, skipping blank lines', () => {
    const text = `${JSON.stringify(row())}\r\n\n${JSON.stringify(row(2))}\n`
    const r = parseNdjson(text, d)
    expect(r.count).toBe(2)
    expect(r.badCount).toBe(0)
    expect(r.items[1]).toEqual(row(2))
    expect(r.preview.map((p) => p.line)).toEqual([1, 3])
  })

  it('flags bad lines with line numbers and reasons', () => {
    const short = row().slice(0, 10)
    const big = row()
    big[0] = 20
    const text = [JSON.stringify(row()), '{oops', JSON.stringify(short), JSON.stringify(big), '"str"'].join('\n')
    const r = parseNdjson(text, d)
    expect(r.count).toBe(5)
    expect(r.badCount).toBe(4)
    expect(r.bad.map((b) => [b.line, b.item])).toEqual([
      [2, 1],
      [3, 2],
      [4, 3],
      [5, 4],
    ])
    expect(r.bad[0]!.reason).toMatch(/^invalid JSON/)
    expect(r.bad[1]!.reason).toBe('expected 64 values, got 10')
    expect(r.bad[2]!.reason).toBe('value 0 = 20 is above the maximum 16')
    expect(r.bad[3]!.reason).toMatch(/expected an array of 64 numbers/)
  })

  it('caps the listed bad rows but counts them all', () => {
    const text = Array.from({ length: 50 }, () => '[1]').join('\n')
    const r = parseNdjson(text, d, { maxBad: 10 })
    expect(r.badCount).toBe(50)
    expect(r.bad).toHaveLength(10)
  })

  it('handles 100k rows', () => {
    const line = JSON.stringify(row(3))
    const text = Array.from({ length: 100_000 }, () => line).join('\n')
    const progress: number[] = []
    const r = parseNdjson(text, d, { onProgress: (n) => progress.push(n) })
    expect(r.count).toBe(100_000)
    expect(r.badCount).toBe(0)
    expect(progress.length).toBeGreaterThan(10)
  }, 60_000)
})

describe('parseJson', () => {
  it('accepts an array of items or a request body with inputs', () => {
    expect(parseJson(JSON.stringify([row(), row()]), d).count).toBe(2)
    const body = parseJson(JSON.stringify({ model: 'digits', inputs: [row()] }), d)
    expect(body.count).toBe(1)
    expect(body.badCount).toBe(0)
  })

  it('reports file-level problems', () => {
    expect(parseJson('{', d).fileError).toMatch(/^invalid JSON/)
    expect(parseJson('{"x":1}', d).fileError).toMatch(/expected a JSON array/)
    expect(parseJson('[]', d).fileError).toBe('the file holds no items')
  })

  it('flags bad items by index', () => {
    const r = parseJson(JSON.stringify([row(), [1, 2], { features: { x: 1 } }]), d)
    expect(r.bad.map((b) => [b.item, b.line])).toEqual([
      [1, undefined],
      [2, undefined],
    ])
  })
})

describe('parseCsv', () => {
  it('parses rows without a header', () => {
    const r = parseCsv('1,2,3\n4,5,6\n', t)
    expect(r.count).toBe(2)
    expect(r.header).toBeUndefined()
    expect(r.items).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ])
  })

  it('maps a header of feature names in any order', () => {
    const r = parseCsv('z,x,y\n3,1,2\n', t)
    expect(r.header).toEqual(['z', 'x', 'y'])
    expect(r.items).toEqual([[1, 2, 3]])
  })

  it('rejects a header that does not match the features', () => {
    const r = parseCsv('x,y,w\n1,2,3\n', t)
    expect(r.fileError).toBe('the CSV header does not name the model\'s 3 features: 1 missing ("z"); 1 not features of iris ("w")')
    // A binary file read as CSV: a few names, clipped, never the whole garbage.
    const garbage = Array.from({ length: 40 }, (_, i) => `\u0001PK${'x'.repeat(100)}${i}`).join(',')
    const g = parseCsv(`${garbage}\n1,2,3\n`, t).fileError!
    expect(g).toMatch(/3 missing \("x", "y", "z"\); 40 not features of iris \("\u0001PKx+…", .*, … 37 more\)$/)
    expect(g.length).toBeLessThan(250)
    expect(parseCsv('a,b\n1,2\n', d).fileError).toMatch(/header has 2 columns; model digits expects 64/)
  })

  it('offers a single extra column as the rows’ id, and reads it as such when asked', () => {
    const text = 'case,z,x,y\nA-1,3,1,2\nA-2,6,4,5\n'
    const offered = parseCsv(text, t)
    expect(offered.idCandidate).toBe('case')
    expect(offered.fileError).toMatch(/1 not features of iris \("case"\)/)
    const r = parseCsv(text, t, { idColumn: 'case' })
    expect(r.fileError).toBeUndefined()
    expect(r.items).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ])
    expect(r.ids).toEqual(['A-1', 'A-2'])
    expect(r.idColumn).toBe('case')
    expect(parseCsv('case,z,x,y\nA-3,1,2\n', t, { idColumn: 'case' }).bad[0]!.reason).toBe('expected 3 values and an id, got 3 columns')
    // Two extra columns: nothing is offered.
    expect(parseCsv('case,when,z,x,y\n', t).idCandidate).toBeUndefined()
  })

  it('flags bad cells with the column name', () => {
    const r = parseCsv('x,y,z\n1,2,3\n1,,3\n1,abc,3\n1,2\n1,2,1e999\n', t)
    expect(r.count).toBe(5)
    expect(r.bad.map((b) => `${b.line}: ${b.reason}`)).toEqual([
      '3: column 2 ("y") is empty',
      '4: column 2 ("y"): "abc" is not a number',
      '5: expected 3 values, got 2',
      '6: column 3 ("z") is not a finite number',
    ])
  })

  it('checks min/max', () => {
    const r = parseCsv([row().join(','), row(17).join(',')].join('\n'), d)
    expect(r.bad).toEqual([{ item: 1, line: 2, reason: 'column 1 = 17 is above the maximum 16' }])
  })

  it('supports quoted fields and other delimiters', () => {
    expect(splitCsvLine('"a,b",c,"say ""hi"""', ',')).toEqual(['a,b', 'c', 'say "hi"'])
    expect(splitCsvLine('"open', ',')).toBe('unterminated quoted field')
    const r = parseCsv('"x";"y";"z"\n1;2;3\n', t)
    expect(r.items).toEqual([[1, 2, 3]])
    expect(parseCsv('x\ty\tz\n1\t2\t3\n', t).items).toEqual([[1, 2, 3]])
  })
})

describe('parseText', () => {
  it('reports an empty file', () => {
    expect(parseText('  \n', 'x.csv', d).fileError).toBe('the file is empty')
  })

  it('keeps the input line of each item', () => {
    const r = parseText('x,y,z\n1,2,3\n\n4,5,6\n', 'rows.csv', t)
    expect(Array.from(r.lines)).toEqual([2, 4])
    expect(r.delimiter).toBe(',')
    expect(Array.from(parseText('[[1,2,3],[4,5,6]]', 'a.json', t).lines)).toEqual([0, 0])
  })
})

describe('buildJobBody', () => {
  it('builds the POST /v1/jobs JSON body', () => {
    expect(JSON.parse(buildJobBody(t, [[1, 2, 3]]))).toEqual({ model: 'iris', version: '2', inputs: [[1, 2, 3]] })
    expect(JSON.parse(buildJobBody(t, [[1, 2, 3]], 'rows.json'))).toEqual({ model: 'iris', version: '2', name: 'rows.json', inputs: [[1, 2, 3]] })
  })
})
