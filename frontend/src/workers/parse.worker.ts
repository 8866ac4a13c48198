// Web Worker: parses and validates an upload, and builds the POST /v1/jobs
// body, off the main thread (100k rows must not freeze the page).
import { buildJobBody, parseText } from '@/lib/parse'
import type { ParseRequest, ParseResponse } from '@/lib/parseClient'

function post(msg: ParseResponse, transfer: Transferable[] = []): void {
  self.postMessage(msg, { transfer })
}

self.onmessage = async (ev: MessageEvent<ParseRequest>) => {
  const { id, file, fileName, spec, format } = ev.data
  try {
    const text = await file.text()
    const r = parseText(text, fileName, spec, {
      format,
      onProgress: (done, total) => post({ type: 'progress', id, done, total }),
    })
    const { items, ...summary } = r
    let body: ArrayBuffer | undefined
    if (!r.fileError && r.badCount === 0 && r.count > 0) {
      body = new TextEncoder().encode(buildJobBody(spec, items)).buffer as ArrayBuffer
    }
    post({ type: 'done', id, summary, body }, body ? [body] : [])
  } catch (e) {
    post({ type: 'error', id, message: e instanceof Error ? e.message : String(e) })
  }
}
