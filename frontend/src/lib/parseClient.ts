// Reads, sniffs, parses and validates an upload in a Web Worker (or inline
// where Workers are unavailable, e.g. unit tests) and hands back a summary,
// the input line of each item, and how to send it: the file as it is
// (NDJSON, comma-separated CSV: the gateway numbers its lines) or a JSON
// body built here.
import { buildJobBody, parseText, type Format, type ParseSummary } from './parse'
import { sniff, SNIFF_BYTES } from './sniff'
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
  /** Input line of each item, by index (0: none). */
  lines: Int32Array
  /** CSV with an id column: each item's id. */
  ids?: string[]
  /** Every row is valid: send the file itself with this content type... */
  raw?: RawType
  /** ...or this UTF-8 JSON body for POST /v1/jobs. */
  body?: ArrayBuffer
}

let nextId = 1

function viaReader<T>(b: Blob, read: (r: FileReader) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const r = new FileReader()
    r.onload = () => resolve(r.result as T)
    r.onerror = () => reject(r.error ?? new Error('cannot read the file'))
    read(r)
  })
}

/** Blob → text (FileReader where Blob.text is missing, e.g. jsdom). */
export function readText(b: Blob): Promise<string> {
  if (typeof b.text === 'function') return b.text()
  return viaReader<string>(b, (r) => r.readAsText(b))
}

async function readBytes(b: Blob): Promise<Uint8Array> {
  const buf = typeof b.arrayBuffer === 'function' ? await b.arrayBuffer() : await viaReader<ArrayBuffer>(b, (r) => r.readAsArrayBuffer(b))
  return new Uint8Array(buf)
}

/** The whole preparation of one file: what the worker runs. */
export async function prepareUpload(
  file: Blob,
  fileName: string,
  spec: InputSpec,
  opts: { format?: Format; idColumn?: string; onProgress?: (done: number, total: number) => void } = {},
): Promise<ParsedUpload> {
  const sniffed = sniff(await readBytes(file.slice(0, SNIFF_BYTES)), fileName)
  if (!sniffed.ok) {
    const summary: ParseSummary = { format: opts.format ?? 'csv', count: 0, bad: [], badCount: 0, preview: [], fileError: sniffed.reason }
    return { summary, lines: new Int32Array(0) }
  }
  const { items, lines, ids, ...summary } = parseText(await readText(file), fileName, spec, opts)
  if (summary.fileError || summary.badCount > 0 || summary.count === 0) return { summary, lines, ids }
  let raw: RawType | undefined
  if (!sniffed.bom && summary.format === 'ndjson') raw = 'application/x-ndjson'
  // With an id column the body is built here until the gateway takes ?id_column= (then: the file as it is).
  if (!sniffed.bom && summary.format === 'csv' && summary.delimiter === ',' && !ids) raw = 'text/csv'
  if (raw) return { summary, lines, raw }
  return { summary, lines, ids, body: new TextEncoder().encode(buildJobBody(spec, items, fileName)).buffer as ArrayBuffer }
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
        resolve({ summary: m.summary, lines: m.lines, ids: m.ids, raw: m.raw, body: m.body })
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
