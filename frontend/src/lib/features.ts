// The Try page's tabular input: where a model's metadata says what its
// inputs look like (feature_ranges, examples), the form starts from
// typical values and tells an impossible value (an error: below
// input.min, not a float32) from an unusual one (a warning: outside what
// the model was trained on, where its outputs are unreliable).
import type { ModelInfo } from '@/api/types'

export type FeatureRange = NonNullable<ModelInfo['feature_ranges']>[number]

/** Largest finite float32: the model's input type. */
const F32_MAX = 3.4028234663852886e38

export interface FieldCheck {
  /** The value cannot be sent. */
  error?: string
  /** The value is outside the training data. */
  warning?: string
}

/** A short number for hints: 6.981, 2501, 0.0009. */
export function fmtNum(v: number): string {
  return String(Number(v.toPrecision(4)))
}

/** Checks one field's value against the input's bounds and the feature's training range. */
export function checkField(v: number | null | undefined, m: Pick<ModelInfo, 'input'>, range?: FeatureRange): FieldCheck {
  if (v === null || v === undefined) return { error: 'required' }
  if (!Number.isFinite(v)) return { error: 'must be a finite number' }
  if (Math.abs(v) > F32_MAX) return { error: 'too large for the model (float32)' }
  if (m.input.min !== undefined && v < m.input.min) return { error: `at least ${fmtNum(m.input.min)}` }
  if (m.input.max !== undefined && v > m.input.max) return { error: `at most ${fmtNum(m.input.max)}` }
  if (range && (v < range.min || v > range.max)) {
    return { warning: `outside the training data (${fmtNum(range.min)} to ${fmtNum(range.max)})` }
  }
  return {}
}

export interface Preset {
  id: string
  text: string
  values: number[]
}

/** Inputs to start from: the typical values, then each example of the metadata. */
export function presets(m: ModelInfo): Preset[] {
  const n = m.features?.length ?? 0
  const out: Preset[] = []
  const ranges = m.feature_ranges
  if (ranges && ranges.length === n && n > 0) out.push({ id: 'typical', text: 'Typical values', values: ranges.map((r) => r.typical) })
  for (const [i, e] of (m.examples ?? []).entries()) {
    if (e.values.length === n) out.push({ id: `example-${i}`, text: `Example: ${e.label}`, values: [...e.values] })
  }
  return out
}

/** The form's first values: the first preset, else empty fields (never made-up zeros). */
export function startValues(m: ModelInfo): (number | null)[] {
  return presets(m)[0]?.values ?? (m.features ?? []).map(() => null)
}
