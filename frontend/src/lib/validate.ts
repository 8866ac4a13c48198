// Client-side validation of input items, mirroring the gateway's checks
// (api/README.md, ItemInput): item size / shape, finite numbers, input.min ..
// input.max, feature names for tabular models. Pure: runs in the parse worker
// and in unit tests.
import type { ItemInput, ModelInfo } from '@/api/types'

/** What validation needs to know about a model (structured-cloneable). */
export interface InputSpec {
  name: string
  version: string
  kind: 'image' | 'tabular'
  itemSize: number
  /** Input shape without the batch dimension. */
  shape: number[]
  min?: number
  max?: number
  features?: string[]
  /** Whether {"image": ...} items are accepted. */
  acceptsImages: boolean
}

export function specFromModel(m: ModelInfo): InputSpec {
  const shape = m.input.shape.slice(1)
  const itemSize = m.item_size || shape.reduce((a, b) => a * b, 1)
  return {
    name: m.name,
    version: m.version,
    kind: m.kind,
    itemSize,
    shape,
    min: typeof m.input.min === 'number' ? m.input.min : undefined,
    max: typeof m.input.max === 'number' ? m.input.max : undefined,
    features: m.features && m.features.length > 0 ? [...m.features] : undefined,
    acceptsImages: m.kind === 'image' && !!m.preprocessing?.image,
  }
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6)))
}

/** Range check of one value; `what` names it in the message. */
export function checkValue(v: unknown, what: string, spec: InputSpec): string | null {
  if (typeof v !== 'number') return `${what} is not a number (${v === null ? 'null' : typeof v})`
  if (!Number.isFinite(v)) return `${what} is not a finite number`
  if (spec.min !== undefined && v < spec.min) return `${what} = ${fmt(v)} is below the minimum ${fmt(spec.min)}`
  if (spec.max !== undefined && v > spec.max) return `${what} = ${fmt(v)} is above the maximum ${fmt(spec.max)}`
  return null
}

/** Checks a flat list of values: count, finiteness and range. */
export function checkValues(values: ArrayLike<unknown>, spec: InputSpec): string | null {
  if (values.length !== spec.itemSize) return `expected ${spec.itemSize} values, got ${values.length}`
  for (let i = 0; i < values.length; i++) {
    const err = checkValue(values[i], valueName(i, spec), spec)
    if (err) return err
  }
  return null
}

function valueName(i: number, spec: InputSpec): string {
  const f = spec.features?.[i]
  return f !== undefined ? `value ${i} (${f})` : `value ${i}`
}

/** Flattens a nested array that must follow `shape`; returns an error string on mismatch. */
export function flattenToShape(arr: unknown[], shape: number[]): unknown[] | string {
  if (!arr.some(Array.isArray)) return arr // flat form; length is checked by the caller
  const out: unknown[] = []
  const walk = (a: unknown, depth: number, path: string): string | null => {
    const want = shape[depth]
    if (depth >= shape.length || want === undefined) {
      out.push(a)
      return Array.isArray(a) ? `nested deeper than the input shape [${shape.join(',')}] at ${path}` : null
    }
    if (!Array.isArray(a)) return `expected an array of ${want} at ${path || 'top level'} (input shape [${shape.join(',')}])`
    if (a.length !== want) return `expected ${want} entries at ${path || 'top level'}, got ${a.length} (input shape [${shape.join(',')}])`
    for (let i = 0; i < a.length; i++) {
      const err = walk(a[i], depth + 1, `${path}[${i}]`)
      if (err) return err
    }
    return null
  }
  const err = walk(arr, 0, '')
  return err ?? out
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/

/** The bytes of base64 text (whitespace ignored), or null when it is not base64. */
export function decodeBase64(s: string): Uint8Array | null {
  const clean = s.replace(/\s+/g, '')
  if (clean.length % 4 !== 0 || !B64.test(clean)) return null
  try {
    const bin = atob(clean)
    const out = new Uint8Array(bin.length)
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
    return out
  } catch {
    return null
  }
}

/**
 * Validates one item as the gateway would. Returns null when valid, else a
 * human-readable reason.
 */
export function validateItem(item: unknown, spec: InputSpec): string | null {
  if (Array.isArray(item)) {
    const flat = flattenToShape(item, spec.shape)
    if (typeof flat === 'string') return flat
    return checkValues(flat, spec)
  }
  if (typeof item !== 'object' || item === null) {
    return `expected an array of ${spec.itemSize} numbers or an object with "b64", "image" or "features", got ${item === null ? 'null' : typeof item}`
  }
  const o = item as Record<string, unknown>
  const keys = Object.keys(o)
  if (keys.length !== 1) {
    return `an object item must have exactly one of "b64", "image" or "features" (got ${keys.length ? keys.map((k) => `"${k}"`).join(', ') : 'none'})`
  }
  if ('b64' in o) {
    if (typeof o.b64 !== 'string') return '"b64" must be a base64 string'
    const bytes = decodeBase64(o.b64)
    if (!bytes) return '"b64" is not valid base64'
    if (bytes.length !== spec.itemSize * 4) {
      return `"b64" holds ${bytes.length} bytes, expected ${spec.itemSize * 4} (${spec.itemSize} float32 values)`
    }
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    for (let i = 0; i < spec.itemSize; i++) {
      const err = checkValue(dv.getFloat32(i * 4, true), valueName(i, spec), spec)
      if (err) return err
    }
    return null
  }
  if ('image' in o) {
    if (!spec.acceptsImages) return `model ${spec.name} does not accept images`
    if (typeof o.image !== 'string' || o.image.length === 0) return '"image" must be a non-empty base64 string'
    if (o.image.startsWith('data:')) return '"image" must be plain base64, not a data: URL'
    if (!decodeBase64(o.image)) return '"image" is not valid base64'
    return null
  }
  if ('features' in o) {
    if (!spec.features) return `model ${spec.name} has no named features; send an array of ${spec.itemSize} numbers`
    const f = o.features
    if (typeof f !== 'object' || f === null || Array.isArray(f)) return '"features" must be an object of name → number'
    const fo = f as Record<string, unknown>
    for (const name of spec.features) {
      if (!(name in fo)) return `missing feature "${name}"`
      const err = checkValue(fo[name], `feature "${name}"`, spec)
      if (err) return err
    }
    for (const k of Object.keys(fo)) {
      if (!spec.features.includes(k)) return `unknown feature "${k}"`
    }
    return null
  }
  return `unknown item form "${keys[0]}": expected "b64", "image" or "features"`
}

/** Short text for previews. */
export function describeItem(item: ItemInput | unknown, max = 8): string {
  if (Array.isArray(item)) {
    const flat = (item as unknown[]).flat(8)
    const head = flat.slice(0, max).map((v) => (typeof v === 'number' ? fmt(v) : JSON.stringify(v)))
    return `[${head.join(', ')}${flat.length > max ? `, … (${flat.length})` : ''}]`
  }
  if (typeof item === 'object' && item !== null) {
    const o = item as Record<string, unknown>
    if (typeof o.b64 === 'string') return `b64 (${o.b64.length} chars)`
    if (typeof o.image === 'string') return `image (${Math.round((o.image.length * 3) / 4 / 1024)} KiB)`
    if (typeof o.features === 'object' && o.features !== null) {
      const e = Object.entries(o.features as Record<string, unknown>)
      return e
        .slice(0, max)
        .map(([k, v]) => `${k}=${typeof v === 'number' ? fmt(v) : JSON.stringify(v)}`)
        .join(', ')
    }
  }
  const s = JSON.stringify(item) ?? String(item)
  return s.length > 60 ? `${s.slice(0, 57)}…` : s
}
