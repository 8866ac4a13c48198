// Parsing of batch upload files (CSV, NDJSON, JSON) into ItemInputs, with
// per-row validation. Pure; runs in the parse Web Worker and in unit tests.
import type { ItemInput } from '@/api/types'
import { checkValue, describeItem, validateItem, type InputSpec } from './validate'

export type Format = 'csv' | 'ndjson' | 'json'

export interface BadRow {
  /** 0-based item index in the upload. */
  item: number
  /** 1-based line in the file (CSV, NDJSON); absent for JSON documents. */
  line?: number
  reason: string
}

export interface PreviewRow {
  item: number
  line?: number
  text: string
  error?: string
}

export interface ParseSummary {
  format: Format
  /** Items found (valid and invalid). */
  count: number
  /** The first `maxBad` invalid rows. */
  bad: BadRow[]
  badCount: number
  preview: PreviewRow[]
  /** CSV header, when the file has one. */
  header?: string[]
  /** CSV field delimiter. */
  delimiter?: string
  /** CSV: the one header column that is not a feature, offered as the rows' id. */
  idCandidate?: string
  /** CSV: the id column in use. */
  idColumn?: string
  /** A problem with the file as a whole; nothing can be sent. */
  fileError?: string
}

export interface ParseResult extends ParseSummary {
  /** Every item, in file order (valid or not); empty unless keepItems. */
  items: ItemInput[]
  /** Input line of each item, by index (0: none, e.g. a JSON document). */
  lines: Int32Array
  /** CSV with an id column: each item's id, by index. */
  ids?: string[]
}

export interface ParseOptions {
  /** CSV: a header column that is each row's id, not a feature (kept in `ids`). */
  idColumn?: string
  format?: Format
  maxBad?: number
  previewRows?: number
  /** Keep every item (and its line and id) for a body built here; false: count and check only (a file sent as it is). */
  keepItems?: boolean
  onProgress?: (done: number, total: number) => void
}

export function formatFromName(name: string): Format | undefined {
  const n = name.toLowerCase()
  if (n.endsWith('.csv') || n.endsWith('.tsv')) return 'csv'
  if (n.endsWith('.ndjson') || n.endsWith('.jsonl')) return 'ndjson'
  if (n.endsWith('.json')) return 'json'
  return undefined
}

/** Guess the format from the file name, else from the content. */
export function detectFormat(name: string, text: string): Format {
  const byName = formatFromName(name)
  if (byName) return byName
  const t = text.trimStart()
  if (t.startsWith('[') || t.startsWith('{')) {
    try {
      JSON.parse(text)
      return 'json'
    } catch {
      return 'ndjson'
    }
  }
  return 'csv'
}

/** Splits text into lines (LF or CRLF), keeping 1-based line numbers. */
function lines(text: string): string[] {
  return text.split(/\r?\n/)
}

class Collector {
  readonly items: ItemInput[] = []
  readonly lines: number[] = []
  count = 0
  readonly bad: BadRow[] = []
  badCount = 0
  readonly preview: PreviewRow[] = []
  private readonly spec: InputSpec
  private readonly maxBad: number
  private readonly previewRows: number
  private readonly keep: boolean
  constructor(spec: InputSpec, opts: ParseOptions) {
    this.spec = spec
    this.maxBad = opts.maxBad ?? 1000
    this.previewRows = opts.previewRows ?? 10
    this.keep = opts.keepItems ?? true
  }
  /** Adds an item; `error` set when parsing already failed. */
  add(item: unknown, line: number | undefined, parseError?: string): void {
    const index = this.count++
    const error = parseError ?? validateItem(item, this.spec) ?? undefined
    if (this.keep) {
      this.items.push(item as ItemInput)
      this.lines.push(line ?? 0)
    }
    if (error) {
      this.badCount++
      if (this.bad.length < this.maxBad) this.bad.push({ item: index, line, reason: error })
    }
    if (this.preview.length < this.previewRows) {
      this.preview.push({ item: index, line, text: parseError ? '—' : describeItem(item), error })
    }
  }
}

function result(format: Format, c: Collector, extra: Partial<ParseResult> = {}): ParseResult {
  const r: ParseResult = {
    format,
    count: c.count,
    items: c.items,
    lines: Int32Array.from(c.lines),
    bad: c.bad,
    badCount: c.badCount,
    preview: c.preview,
    ...extra,
  }
  if (!r.fileError && r.count === 0) r.fileError = 'the file holds no items'
  return r
}

/**
 * A parser fed one line at a time (a file read as a stream, lib/lines.ts):
 * it holds the summary, and the items only when asked to (keepItems).
 */
export interface LineParser {
  push(text: string, line: number): void
  /** A problem with the file as a whole was found: the rest need not be read. */
  failed: boolean
  finish(): ParseResult
}

export function ndjsonParser(spec: InputSpec, opts: ParseOptions = {}): LineParser {
  const c = new Collector(spec, opts)
  return {
    failed: false,
    push(text, line) {
      const l = text.trim()
      if (l === '') return
      let v: unknown
      try {
        v = JSON.parse(l)
      } catch (e) {
        c.add(null, line, `invalid JSON: ${e instanceof Error ? e.message : String(e)}`)
        return
      }
      c.add(v, line)
    },
    finish: () => result('ndjson', c),
  }
}

/** Feeds text's lines to p (tests and small inputs; files are read as a stream). */
function feed(p: LineParser, text: string, onProgress?: (done: number, total: number) => void): ParseResult {
  const ls = lines(text)
  for (let i = 0; i < ls.length && !p.failed; i++) {
    p.push(ls[i]!, i + 1)
    if (onProgress && i % PROGRESS_EVERY === 0) onProgress(i, ls.length)
  }
  return p.finish()
}

const PROGRESS_EVERY = 5000

export function parseNdjson(text: string, spec: InputSpec, opts: ParseOptions = {}): ParseResult {
  return feed(ndjsonParser(spec, opts), text, opts.onProgress)
}

export function parseJson(text: string, spec: InputSpec, opts: ParseOptions = {}): ParseResult {
  const c = new Collector(spec, opts)
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    return result('json', c, { fileError: `invalid JSON: ${e instanceof Error ? e.message : String(e)}` })
  }
  let items: unknown[]
  if (Array.isArray(doc)) items = doc
  else if (typeof doc === 'object' && doc !== null && Array.isArray((doc as { inputs?: unknown }).inputs)) {
    items = (doc as { inputs: unknown[] }).inputs
  } else {
    return result('json', c, {
      fileError: 'expected a JSON array of items or an object with an "inputs" array',
    })
  }
  for (let i = 0; i < items.length; i++) {
    c.add(items[i], undefined)
    if (opts.onProgress && i % PROGRESS_EVERY === 0) opts.onProgress(i, items.length)
  }
  return result('json', c)
}

/** Splits one CSV record; handles quoted fields ("a,b", "say ""hi"""). */
export function splitCsvLine(line: string, delim: string): string[] | string {
  if (!line.includes('"')) return line.split(delim)
  const out: string[] = []
  let i = 0
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = ''
      i++
      for (;;) {
        const q = line.indexOf('"', i)
        if (q < 0) return 'unterminated quoted field'
        v += line.slice(i, q)
        if (line[q + 1] === '"') {
          v += '"'
          i = q + 2
        } else {
          i = q + 1
          break
        }
      }
      out.push(v)
      if (i < line.length && line[i] !== delim) return 'unexpected character after a quoted field'
      i++
    } else {
      const d = line.indexOf(delim, i)
      const end = d < 0 ? line.length : d
      out.push(line.slice(i, end))
      i = end + 1
    }
  }
  return out
}

export function detectDelimiter(first: string): string {
  const counts = [',', ';', '\t'].map((d) => [d, first.split(d).length - 1] as const)
  counts.sort((a, b) => b[1] - a[1])
  return counts[0] && counts[0][1] > 0 ? counts[0][0] : ','
}

const LOOKS_NUMERIC = /^\s*[+-]?(\d|\.\d|inf|nan)/i

function isHeader(cells: string[]): boolean {
  return cells.some((c) => c.trim() !== '' && !LOOKS_NUMERIC.test(c))
}

/** Whether a CSV's first line is a header (names, not numbers). */
export function csvHeaderLine(first: string): boolean {
  const cells = splitCsvLine(first, detectDelimiter(first))
  return typeof cells !== 'string' && isHeader(cells)
}

interface CsvHeader {
  header: string[]
  /** Column → item position (-1: the id column). */
  order?: number[]
  idIdx: number
  error?: string
  idCandidate?: string
}

/** Matches a header row to the model's features (and the id column, when asked for one). */
function csvHeader(first: string[], spec: InputSpec, opts: ParseOptions): CsvHeader {
  const header = first.map((h) => h.trim())
  const idIdx = opts.idColumn ? header.indexOf(opts.idColumn) : -1
  const named = header.filter((_, i) => i !== idIdx)
  if (!spec.features) {
    if (named.length === spec.itemSize) return { header, idIdx }
    return { header, idIdx, error: `the CSV header has ${header.length} columns; model ${spec.name} expects ${spec.itemSize} values per row` }
  }
  const missing = spec.features.filter((f) => !named.includes(f))
  const unknown = named.filter((h) => !spec.features!.includes(h))
  const dup = named.filter((h, i) => named.indexOf(h) !== i)
  if (missing.length || unknown.length || dup.length) {
    const parts = []
    if (missing.length) parts.push(`${missing.length} missing (${names3(missing)})`)
    if (unknown.length) parts.push(`${unknown.length} not features of ${spec.name} (${names3(unknown)})`)
    if (dup.length) parts.push(`repeated ${names3(dup)}`)
    const idCandidate = !missing.length && !dup.length && unknown.length === 1 ? unknown[0] : undefined
    return { header, idIdx, idCandidate, error: `the CSV header does not name the model's ${spec.features.length} features: ${parts.join('; ')}` }
  }
  return { header, idIdx, order: header.map((h, i) => (i === idIdx ? -1 : spec.features!.indexOf(h))) }
}

/** One CSV row's values in model order, or why it is not an item. */
function csvValues(cells: string[], spec: InputSpec, names: string[] | undefined, order: number[] | undefined, idIdx: number): number[] | string {
  const values = new Array<number>(spec.itemSize)
  for (let j = 0; j < cells.length; j++) {
    if (j === idIdx) continue
    const cell = cells[j]!.trim()
    const col = names?.[j] !== undefined ? `column ${j + 1} ("${names[j]}")` : `column ${j + 1}`
    if (cell === '') return `${col} is empty`
    const v = Number(cell)
    if (Number.isNaN(v)) return `${col}: "${cell.length > 20 ? cell.slice(0, 20) + '…' : cell}" is not a number`
    const rangeErr = checkValue(v, col, spec)
    if (rangeErr) return rangeErr
    values[order ? order[j]! : j] = v
  }
  return values
}

export function csvParser(spec: InputSpec, opts: ParseOptions = {}): LineParser {
  const c = new Collector(spec, opts)
  const keep = opts.keepItems ?? true
  let delim: string | undefined
  let header: string[] | undefined
  let order: number[] | undefined
  let idIdx = -1
  let ids: string[] | undefined
  let fileError: { error: string; idCandidate?: string } | undefined
  let width = spec.itemSize

  function first(text: string): boolean {
    delim = detectDelimiter(text)
    const cells = splitCsvLine(text, delim)
    if (typeof cells === 'string' || !isHeader(cells)) return false
    const h = csvHeader(cells, spec, opts)
    header = h.header
    if (h.error) fileError = { error: h.error, idCandidate: h.idCandidate }
    else ({ order, idIdx } = h)
    if (idIdx >= 0 && keep) ids = []
    width = spec.itemSize + (idIdx >= 0 ? 1 : 0)
    return true
  }

  const p: LineParser = {
    failed: false,
    push(raw, line) {
      if (fileError || raw.trim() === '') return
      if (delim === undefined && first(raw)) {
        p.failed = !!fileError
        return
      }
      const cells = splitCsvLine(raw, delim!)
      if (typeof cells === 'string') {
        ids?.push('')
        return c.add(null, line, cells)
      }
      if (cells.length !== width) {
        ids?.push('')
        return c.add(null, line, idIdx >= 0 ? `expected ${spec.itemSize} values and an id, got ${cells.length} columns` : `expected ${spec.itemSize} values, got ${cells.length}`)
      }
      ids?.push(idIdx >= 0 ? cells[idIdx]!.trim() : '')
      const v = csvValues(cells, spec, header ?? spec.features, order, idIdx)
      if (typeof v === 'string') c.add(null, line, v)
      else c.add(v, line)
    },
    finish() {
      if (fileError) return result('csv', c, { header, delimiter: delim, fileError: fileError.error, idCandidate: fileError.idCandidate })
      return result('csv', c, { header, delimiter: delim, ids, idColumn: idIdx >= 0 ? opts.idColumn : undefined })
    },
  }
  return p
}

export function parseCsv(text: string, spec: InputSpec, opts: ParseOptions = {}): ParseResult {
  return feed(csvParser(spec, opts), text, opts.onProgress)
}

/** Up to three names, quoted and clipped: a file's garbage never fills the page. */
function names3(names: string[]): string {
  const q = names.slice(0, 3).map((n) => `"${clip(n, 30)}"`)
  return q.join(', ') + (names.length > 3 ? `, … ${names.length - 3} more` : '')
}

export function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s
}

export function parseText(text: string, fileName: string, spec: InputSpec, opts: ParseOptions = {}): ParseResult {
  const format = opts.format ?? detectFormat(fileName, text)
  if (text.trim() === '') {
    return { format, count: 0, items: [], lines: new Int32Array(0), bad: [], badCount: 0, preview: [], fileError: 'the file is empty' }
  }
  switch (format) {
    case 'csv':
      return parseCsv(text, spec, opts)
    case 'ndjson':
      return parseNdjson(text, spec, opts)
    case 'json':
      return parseJson(text, spec, opts)
  }
}

/** The POST /v1/jobs JSON body for valid items; `name` names the input (e.g. its file). */
export function buildJobBody(spec: InputSpec, items: ItemInput[], name?: string): string {
  const body: { model: string; version: string; name?: string; inputs: ItemInput[] } = { model: spec.name, version: spec.version, inputs: items }
  if (name) body.name = name
  return JSON.stringify(body)
}
