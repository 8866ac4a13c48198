// Tells a text upload from files that only look like one: a spreadsheet,
// an archive, a PDF, an image or other binary content is refused with what
// it is and what to do, before anything is parsed as CSV. Pure (the parse
// worker and unit tests run it on the file's first bytes).

export type Sniffed =
  | { ok: true; /** The file starts with a UTF-8 byte order mark. */ bom: boolean }
  | { ok: false; reason: string }

/** How many leading bytes sniff() looks at. */
export const SNIFF_BYTES = 4096

function startsWith(b: Uint8Array, sig: number[]): boolean {
  return sig.every((x, i) => b[i] === x)
}

function ext(name: string): string {
  const i = name.lastIndexOf('.')
  return i < 0 ? '' : name.slice(i + 1).toLowerCase()
}

const SAVE_AS_CSV = 'save it as CSV (comma-separated, UTF-8) and upload that file'

/** What a file is, from its first bytes and its name. */
export function sniff(head: Uint8Array, name: string): Sniffed {
  const e = ext(name)
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) {
    if (['xlsx', 'xlsm', 'ods', 'numbers'].includes(e)) return { ok: false, reason: `This is a spreadsheet (.${e}), not a CSV file: ${SAVE_AS_CSV}.` }
    return { ok: false, reason: 'This is a ZIP archive: unpack it and upload the CSV, NDJSON or JSON file inside.' }
  }
  if (startsWith(head, [0xd0, 0xcf, 0x11, 0xe0])) return { ok: false, reason: `This is an Office document (such as an .xls workbook): ${SAVE_AS_CSV}.` }
  if (startsWith(head, [0x25, 0x50, 0x44, 0x46])) return { ok: false, reason: 'This is a PDF document: export its table as CSV and upload that file.' }
  if (startsWith(head, [0x1f, 0x8b])) return { ok: false, reason: 'This file is compressed (gzip): decompress it first.' }
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47]) || startsWith(head, [0xff, 0xd8, 0xff]) || startsWith(head, [0x47, 0x49, 0x46, 0x38])) {
    return { ok: false, reason: 'This is an image, and this model does not take images: upload CSV, NDJSON or JSON.' }
  }
  if (startsWith(head, [0xff, 0xfe]) || startsWith(head, [0xfe, 0xff])) {
    return { ok: false, reason: 'This file is UTF-16 text: save it as UTF-8 and upload it again.' }
  }
  const bom = startsWith(head, [0xef, 0xbb, 0xbf])
  if (!looksLikeText(head.subarray(bom ? 3 : 0))) {
    return { ok: false, reason: `This file is not text (it holds binary data)${e ? ` — a .${e} file` : ''}: upload CSV, NDJSON or JSON.` }
  }
  return { ok: true, bom }
}

/** UTF-8 text without NUL and with few control characters. */
function looksLikeText(b: Uint8Array): boolean {
  let control = 0
  for (const x of b) {
    if (x === 0) return false
    if (x < 0x20 && x !== 0x09 && x !== 0x0a && x !== 0x0d && x !== 0x0c) control++
  }
  if (control > Math.max(2, b.length / 100)) return false
  try {
    // stream: a character cut at the end of the head is not an error
    new TextDecoder('utf-8', { fatal: true }).decode(b, { stream: true })
    return true
  } catch {
    return false
  }
}
