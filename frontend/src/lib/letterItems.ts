// A dead letter's payload items (DeadLetterItem) in words: where the item
// was in its job's input (index, line, id column) and what it held: a
// tensor's first float32 values, an image's format and size, or why an
// input accepted under max_invalid was invalid.
import type { DeadLetterItem } from '@/api/types'
import { fmtBytes, fmtInt } from './format'
import { clip } from './parse'
import { decodeBase64 } from './validate'

/** Values of a tensor shown before "…". */
export const SHOWN_VALUES = 16

export interface ItemView {
  /** "item 256, line 258, id a-17" */
  where: string
  kind: DeadLetterItem['kind']
  /** What it held, in one line. */
  text: string
}

function imageFormat(b: Uint8Array): string {
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'PNG image'
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'JPEG image'
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return 'GIF image'
  return 'Image'
}

/** A float32 for people: at most 6 significant digits. */
function num(v: number): string {
  return Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v)
}

function tensorText(b: Uint8Array): string {
  if (b.length % 4 !== 0) return `${fmtBytes(b.length)}, not a whole number of float32 values`
  const n = b.length / 4
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const shown = Array.from({ length: Math.min(n, SHOWN_VALUES) }, (_, i) => num(view.getFloat32(i * 4, true)))
  return `${fmtInt(n)} value${n === 1 ? '' : 's'}: ${shown.join(', ')}${n > SHOWN_VALUES ? ', …' : ''}`
}

export function letterItemView(it: DeadLetterItem): ItemView {
  const where = [`item ${fmtInt(it.index)}`, it.line !== undefined ? `line ${fmtInt(it.line)}` : '', it.id !== undefined ? `id ${clip(it.id, 80)}` : '']
    .filter(Boolean)
    .join(', ')
  const bytes = decodeBase64(it.data_b64)
  if (!bytes) return { where, kind: it.kind, text: 'not readable (its data is not base64)' }
  switch (it.kind) {
    case 'image':
      return { where, kind: it.kind, text: `${imageFormat(bytes)}, ${fmtBytes(bytes.length)}` }
    case 'invalid':
      return { where, kind: it.kind, text: `invalid input: ${clip(new TextDecoder().decode(bytes), 300)}` }
    default:
      return { where, kind: it.kind, text: tensorText(bytes) }
  }
}
