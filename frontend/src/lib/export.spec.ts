import { describe, expect, it } from 'vitest'
import { resultsToCsvParts, resultsToNdjsonParts } from './export'
import type { ItemResult } from '@/api/types'

const rows: ItemResult[] = [
  { index: 0, label: '7', class: 7, score: 0.5, top: [], probabilities: [0.25, 0.75] },
  { index: 1, error: 'bad, "very" bad' },
]

describe('export', () => {
  it('builds CSV with probability columns and quoted errors', () => {
    expect(resultsToCsvParts(rows, ['a', 'b']).join('')).toBe(
      'index,label,class,score,error,p_a,p_b\n0,7,7,0.5,,0.25,0.75\n1,,,,"bad, ""very"" bad",,\n',
    )
  })
  it('builds NDJSON', () => {
    const lines = resultsToNdjsonParts(rows).join('').trim().split('\n')
    expect(lines.map((l) => JSON.parse(l))).toEqual(rows)
  })
})
