// Reads, sniffs, parses and validates an upload in a Web Worker (or inline
// where Workers are unavailable, e.g. unit tests) and hands back a summary,
// the input line of each item, and how to send it: the file as it is
// (NDJSON, comma-separated CSV: the gateway numbers its lines) or a JSON
// body built here.
//
// NDJSON and CSV files are read as a stream (lib/lines.ts): what is held is
// the summary (counts, the first rows, the first invalid rows), not the
// file, so a file of any size is checked whole with bounded memory. Only a
// file that must be turned into a JSON body here (a JSON document, a CSV
// separated by ; or tabs) keeps its items, and only up to MAX_CONVERT_BYTES.
import { eachLine, LineTooLongError, readSlice, readText } from './lines'
import { buildJobBody, csvHeaderLine, csvParser, detectDelimiter, detectFormat, formatFromName, ndjsonParser, parseJson, type Format, type ParseSummary } from './parse'
import { sniff, SNIFF_BYTES } from './sniff'
import { fmtBytes } from './format'
import type { InputSpec } from './validate'

export interface ParseRequest {
  id: number
  file: Blob
  fileName: string
  spec: InputSpec
  format?: Format
  idColumn?: string
}

export type ParseResponse =
  | { type: 'progress'; id: number; done: number; total: number }
  | ({ type: 'done'; id: number } & ParsedUpload)
  | { type: 'error'; id: number; message: string }

/** The content type to send the file itself as, when it can go as it is. */
export type RawType = 'application/x-ndjson' | 'text/csv'

export interface ParsedUpload {
  summary: ParseSummary
  /** Input line of each item, by index (0: none); empty for a file sent as it is (the gateway numbers its lines). */
  lines: Int32Array
  /** CSV with an id column, converted here: each item's id. */
  ids?: string[]
  /** The file can go as it is: with this content type... */
  raw?: RawType
  /** ...from this byte (3 past a UTF-8 byte order mark, else 0). */
  rawFrom?: number
  /** ...or, every row being valid, this UTF-8 JSON body for POST /v1/jobs. */
  body?: ArrayBuffer
  /** How long the check took, in milliseconds. */
  ms: number
}

/** The largest file turned into a JSON body here (a JSON document, a CSV separated by ; or tabs). */
export const MAX_CONVERT_BYTES = 64 << 20

let nextId = 1

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now())

function fail(format: Format, fileError: string, started: number): ParsedUpload {
  return { summary: { format, count: 0, bad: [], badCount: 0, preview: [], fileError }, lines: new Int32Array(0), ms: now() - started }
}

/** The first non-empty line of the file's head (to tell a CSV's delimiter before reading it). */
function firstLine(head: string): string {
  return head.split(/\r?\n/).find((l) => l.trim() !== '') ?? ''
}

const tooBigToConvert = (size: number, what: string) =>
  `This ${what} is ${fmtBytes(size)}; files over ${fmtBytes(MAX_CONVERT_BYTES)} are sent as they are, which needs NDJSON (one item per line) ` +
  'or comma-separated CSV (UTF-8): save it in one of those and upload it again.'

/**
 * Whether the gateway reads the file as it is: NDJSON, and CSV separated by
 * commas (the gateway's reader) whose header, if any, it takes (a model
 * without feature names takes one only beside an id column).
 */
function rawType(format: Format, first: string, spec: InputSpec, idColumn?: string): RawType | undefined {
  if (format === 'ndjson') return 'application/x-ndjson'
  if (format !== 'csv' || detectDelimiter(first) !== ',') return undefined
  if (csvHeaderLine(first) && !spec.features && !idColumn) return undefined
  return 'text/csv'
}

/** The whole preparation of one file: what the worker runs. */
export async function prepareUpload(
  file: Blob,
  fileName: string,
  spec: InputSpec,
  opts: { format?: Format; idColumn?: string; onProgress?: (done: number, total: number) => void } = {},
): Promise<ParsedUpload> {
  const started = now()
  const headBytes = await readSlice(file.slice(0, SNIFF_BYTES))
  const sniffed = sniff(headBytes, fileName)
  if (!sniffed.ok) return fail(opts.format ?? 'csv', sniffed.reason, started)
  const head = new TextDecoder('utf-8').decode(headBytes)
  let format = opts.format ?? formatFromName(fileName)
  if (!format) {
    const t = head.trimStart()
    const jsonish = t.startsWith('[') || t.startsWith('{')
    format = jsonish && file.size <= MAX_CONVERT_BYTES ? detectFormat(fileName, await readText(file)) : jsonish ? 'ndjson' : 'csv'
  }
  if (format === 'json') return prepareJson(file, fileName, spec, started)
  const raw = rawType(format, firstLine(head), spec, opts.idColumn)
  if (!raw && file.size > MAX_CONVERT_BYTES) return fail(format, tooBigToConvert(file.size, 'CSV file is not one the gateway reads as it is (separated by commas, with a header only of feature names), and'), started)
  const p = format === 'ndjson' ? ndjsonParser(spec, { idColumn: opts.idColumn, keepItems: !raw }) : csvParser(spec, { idColumn: opts.idColumn, keepItems: !raw })
  try {
    await eachLine(file, (text, line) => p.push(text, line), { onBytes: opts.onProgress, stopped: () => p.failed })
  } catch (e) {
    if (e instanceof LineTooLongError) return fail(format, `The file cannot be read as ${format.toUpperCase()}: ${e.message}.`, started)
    throw e
  }
  const { items, lines, ids, ...summary } = p.finish()
  const ms = now() - started
  if (summary.fileError || summary.count === 0) return { summary, lines, ids, ms }
  if (raw) return { summary, lines: new Int32Array(0), raw, rawFrom: sniffed.bom ? 3 : 0, ms }
  if (summary.badCount > 0) return { summary, lines, ids, ms }
  return { summary, lines, ids, body: new TextEncoder().encode(buildJobBody(spec, items, fileName)).buffer as ArrayBuffer, ms }
}

/** A JSON document: read whole (up to MAX_CONVERT_BYTES) and sent as a JSON body. */
async function prepareJson(file: Blob, fileName: string, spec: InputSpec, started: number): Promise<ParsedUpload> {
  if (file.size > MAX_CONVERT_BYTES) return fail('json', tooBigToConvert(file.size, 'JSON document'), started)
  const { items, lines, ids, ...summary } = parseJson(await readText(file), spec)
  const ms = now() - started
  if (summary.fileError || summary.badCount > 0 || summary.count === 0) return { summary, lines, ids, ms }
  return { summary, lines, ids, body: new TextEncoder().encode(buildJobBody(spec, items, fileName)).buffer as ArrayBuffer, ms }
}

export interface ParseHandle {
  promise: Promise<ParsedUpload>
  cancel(): void
}

export function parseUpload(
  file: Blob,
  fileName: string,
  spec: InputSpec,
  onProgress?: (done: number, total: number) => void,
  format?: Format,
  idColumn?: string,
): ParseHandle {
  const id = nextId++
  if (typeof Worker === 'undefined') {
    return { promise: prepareUpload(file, fileName, spec, { format, idColumn, onProgress }), cancel: () => {} }
  }
  const worker = new Worker(new URL('../workers/parse.worker.ts', import.meta.url), { type: 'module' })
  let reject: (e: Error) => void = () => {}
  const promise = new Promise<ParsedUpload>((resolve, rej) => {
    reject = rej
    worker.onmessage = (ev: MessageEvent<ParseResponse>) => {
      const m = ev.data
      if (m.id !== id) return
      if (m.type === 'progress') onProgress?.(m.done, m.total)
      else if (m.type === 'done') {
        worker.terminate()
        resolve({ summary: m.summary, lines: m.lines, ids: m.ids, raw: m.raw, rawFrom: m.rawFrom, body: m.body, ms: m.ms })
      } else {
        worker.terminate()
        rej(new Error(m.message))
      }
    }
    worker.onerror = (ev) => {
      worker.terminate()
      rej(new Error(ev.message || 'the parser failed'))
    }
  })
  // A plain copy: reactive proxies cannot be structured-cloned.
  const req: ParseRequest = { id, file, fileName, spec: JSON.parse(JSON.stringify(spec)) as InputSpec, format, idColumn }
  worker.postMessage(req)
  return {
    promise,
    cancel: () => {
      worker.terminate()
      reject(new Error('cancelled'))
    },
  }
}
