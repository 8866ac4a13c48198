// Runs lib/parse in a Web Worker (or inline where Workers are unavailable,
// e.g. unit tests) and hands back a summary plus the ready-to-send JSON body.
import { buildJobBody, parseText, type Format, type ParseSummary } from './parse'
import type { InputSpec } from './validate'

export interface ParseRequest {
  id: number
  file: Blob
  fileName: string
  spec: InputSpec
  format?: Format
}

export type ParseResponse =
  | { type: 'progress'; id: number; done: number; total: number }
  | { type: 'done'; id: number; summary: ParseSummary; body?: ArrayBuffer }
  | { type: 'error'; id: number; message: string }

export interface ParsedUpload {
  summary: ParseSummary
  /** UTF-8 JSON body for POST /v1/jobs; only when every row is valid. */
  body?: ArrayBuffer
}

let nextId = 1

/** Blob → text (FileReader where Blob.text is missing, e.g. jsdom). */
export function readText(b: Blob): Promise<string> {
  if (typeof b.text === 'function') return b.text()
  return new Promise((resolve, reject) => {
    const r = new FileReader()
    r.onload = () => resolve(String(r.result))
    r.onerror = () => reject(r.error ?? new Error('cannot read the file'))
    r.readAsText(b)
  })
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
): ParseHandle {
  const id = nextId++
  if (typeof Worker === 'undefined') {
    const promise = readText(file).then((text) => {
      const { items, ...summary } = parseText(text, fileName, spec, { format, onProgress })
      const ok = !summary.fileError && summary.badCount === 0 && summary.count > 0
      const body = ok ? (new TextEncoder().encode(buildJobBody(spec, items)).buffer as ArrayBuffer) : undefined
      return { summary, body }
    })
    return { promise, cancel: () => {} }
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
        resolve({ summary: m.summary, body: m.body })
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
  const req: ParseRequest = { id, file, fileName, spec: JSON.parse(JSON.stringify(spec)) as InputSpec, format }
  worker.postMessage(req)
  return {
    promise,
    cancel: () => {
      worker.terminate()
      reject(new Error('cancelled'))
    },
  }
}
