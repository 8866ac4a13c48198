import { describe, expect, it } from 'vitest'
import { resultsToCsvParts, resultsToNdjsonParts } from './export'
import type { ItemResult } from '@/api/types'

const rows: ItemResult[] = [
  { index: 0, label: '7', class: 7, score: 0.5, top: [], probabilities: [0.25, 0.75] },
  { index: 1, error: 'bad, "very" bad' },
  { index: 2, error: 'job cancelled', skipped: true },
]

describe('export', () => {
  it('builds CSV with the input line, the status, probability columns and quoted errors', () => {
    expect(resultsToCsvParts(rows, ['a', 'b'], { lines: Int32Array.from([2, 3, 5]) }).join('')).toBe(
      'index,line,id,status,label,class,score,error,p_a,p_b\n' +
        '0,2,,ok,7,7,0.5,,0.25,0.75\n' +
        '1,3,,failed,,,,"bad, ""very"" bad",,\n' +
        '2,5,,skipped,,,,job cancelled,,\n',
    )
  })

  it('prefers the line and id the gateway sent; names files as ids', () => {
    const fromServer: ItemResult[] = [{ index: 0, line: 9, id: 'case-17', label: 'b', class: 1, score: 0.9 }]
    expect(resultsToCsvParts(fromServer, [], { lines: [2] }).join('')).toBe('index,line,id,status,label,class,score,error\n0,9,case-17,ok,b,1,0.9,\n')
    expect(resultsToCsvParts(rows.slice(0, 1), [], { ids: ['a,b.png'] })[1]).toBe('0,,"a,b.png",ok,7,7,0.5,\n')
  })

  it('builds NDJSON with the line added where the gateway did not send it', () => {
    const lines = resultsToNdjsonParts(rows, { lines: [2, 0, 5] }).join('').trim().split('\n')
    expect(lines.map((l) => JSON.parse(l))).toEqual([{ ...rows[0], line: 2 }, rows[1], { ...rows[2], line: 5 }])
  })
})
