import { describe, expect, it } from 'vitest'
import type { ModelInfo } from '@/api/types'
import { checkField, presets, startValues } from './features'
import { tabular } from './testModels'

const withRanges: ModelInfo = {
  ...tabular,
  input: { ...tabular.input, min: 0 },
  feature_ranges: [
    { min: 6.981, max: 28.11, typical: 13.275 },
    { min: 9.71, max: 39.28, typical: 18.825 },
    { min: 43.79, max: 188.5, typical: 86.04 },
  ],
  examples: [
    { label: 'a', values: [15.46, 19.48, 101.7] },
    { label: 'b', values: [12.76, 18.84, 81.87] },
  ],
}

describe('features', () => {
  it('starts from the typical values, never from zeros the model never saw', () => {
    expect(startValues(withRanges)).toEqual([13.275, 18.825, 86.04])
    expect(startValues(tabular)).toEqual([null, null, null]) // no metadata: empty fields
    expect(presets(withRanges).map((p) => p.text)).toEqual(['Typical values', 'Example: a', 'Example: b'])
  })

  it('tells an impossible value from an unusual one', () => {
    const r = withRanges.feature_ranges![0]
    expect(checkField(13, withRanges, r)).toEqual({})
    expect(checkField(-5, withRanges, r)).toEqual({ error: 'at least 0' })
    expect(checkField(1e30, withRanges, r)).toEqual({ warning: 'outside the training data (6.981 to 28.11)' })
    expect(checkField(1e39, withRanges, r)).toEqual({ error: 'too large for the model (float32)' })
    expect(checkField(null, withRanges, r)).toEqual({ error: 'required' })
    expect(checkField(NaN, withRanges, r)).toEqual({ error: 'must be a finite number' })
  })
})
