// Web Worker: sniffs, parses and validates an upload, and builds the POST
// /v1/jobs body when the file cannot go as it is, off the main thread
// (100k rows must not freeze the page).
import { prepareUpload, type ParseRequest, type ParseResponse } from '@/lib/parseClient'

function post(msg: ParseResponse, transfer: Transferable[] = []): void {
  self.postMessage(msg, { transfer })
}

self.onmessage = async (ev: MessageEvent<ParseRequest>) => {
  const { id, file, fileName, spec, format, idColumn } = ev.data
  try {
    const r = await prepareUpload(file, fileName, spec, {
      format,
      idColumn,
      onProgress: (done, total) => post({ type: 'progress', id, done, total }),
    })
    const transfer: Transferable[] = [r.lines.buffer as ArrayBuffer]
    if (r.body) transfer.push(r.body)
    post({ type: 'done', id, ...r }, transfer)
  } catch (e) {
    post({ type: 'error', id, message: e instanceof Error ? e.message : String(e) })
  }
}
