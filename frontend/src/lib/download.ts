// Downloads of a finished job's files (GET /v1/jobs/{id}/output, /errors).
// The API takes its key only in the Authorization header, which a plain
// link cannot carry, so the page fetches the file:
//
// - where the browser can write a file as it arrives (the File System
//   Access API: Chromium), the response is streamed to the file the user
//   picks, never held in memory, and a dropped connection resumes with
//   `Range: bytes=N-` and `If-Range: <ETag>` (a changed file starts again);
// - elsewhere the file is read into a Blob first (held by the browser, on
//   disk for large ones) and saved from it (export.ts downloadBlob).
//
// streamDownload is the first, over injected fetch and writer (unit tests).

export interface DownloadProgress {
  received: number
  /** The file's size (Content-Length / Content-Range), when known. */
  total: number | null
}

/** The part of a FileSystemWritableFileStream a download writes with. */
export interface FileWriter {
  write(data: Uint8Array): Promise<void>
  truncate(size: number): Promise<void>
  seek(position: number): Promise<void>
  close(): Promise<void>
  abort(): Promise<void>
}

export type Fetch = (url: string, init: RequestInit) => Promise<Response>

/** A failed answer of the gateway (its JSON error, read by the caller). */
export class DownloadError extends Error {
  readonly response: Response
  constructor(response: Response) {
    super(`download failed: ${response.status}`)
    this.name = 'DownloadError'
    this.response = response
  }
}

/** How many times a dropped download is resumed before it gives up. */
export const MAX_RESUMES = 5

function sizeOf(res: Response, offset: number): number | null {
  const range = res.headers.get('Content-Range') // bytes 100-199/1000
  const m = range ? /\/(\d+)$/.exec(range) : null
  if (m) return Number(m[1])
  const len = res.headers.get('Content-Length')
  return len === null ? null : offset + Number(len)
}

/** One request from `offset` (with If-Range once the ETag is known); resolves to the response to read. */
async function open(fetchFn: Fetch, url: string, headers: Record<string, string>, offset: number, etag: string | null): Promise<Response> {
  const h: Record<string, string> = { ...headers }
  if (offset > 0) {
    h.Range = `bytes=${offset}-`
    if (etag) h['If-Range'] = etag
  }
  const res = await fetchFn(url, { headers: h })
  if (res.status !== 200 && res.status !== 206) throw new DownloadError(res)
  return res
}

/**
 * Streams url into w, resuming after a dropped connection from the bytes
 * written; a file that changed meanwhile (200 to a Range) is written again
 * from the start. Closes w when the whole file is written, aborts it when
 * the download fails for good.
 */
export async function streamDownload(
  fetchFn: Fetch,
  url: string,
  headers: Record<string, string>,
  w: FileWriter,
  onProgress: (p: DownloadProgress) => void = () => {},
): Promise<number> {
  let offset = 0
  let etag: string | null = null
  let total: number | null = null
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await open(fetchFn, url, headers, offset, etag)
      if (res.status === 200 && offset > 0) {
        offset = 0 // the file changed (or Range was ignored): start over
        await w.seek(0)
        await w.truncate(0)
      }
      etag = res.headers.get('ETag') ?? etag
      total = sizeOf(res, offset) ?? total
      const reader = res.body!.getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        await w.write(value)
        offset += value.byteLength
        onProgress({ received: offset, total })
      }
      if (total === null || offset >= total) {
        await w.close()
        return offset
      }
      throw new Error('the connection closed early')
    } catch (e) {
      if (e instanceof DownloadError || attempt >= MAX_RESUMES) {
        await w.abort().catch(() => undefined)
        throw e
      }
    }
  }
}

/** The picker of the File System Access API (Chromium), where there is one. */
interface SavePicker {
  showSaveFilePicker(o: { suggestedName: string; types?: { description: string; accept: Record<string, string[]> }[] }): Promise<{
    createWritable(): Promise<FileWriter>
  }>
}

export function canStreamToDisk(): boolean {
  return typeof window !== 'undefined' && typeof (window as unknown as Partial<SavePicker>).showSaveFilePicker === 'function'
}

/** Asks where to save a file (null: the user closed the picker). */
export async function pickFile(name: string, type: string): Promise<FileWriter | null> {
  const ext = name.slice(name.lastIndexOf('.'))
  try {
    const h = await (window as unknown as SavePicker).showSaveFilePicker({ suggestedName: name, types: [{ description: ext.slice(1).toUpperCase(), accept: { [type]: [ext] } }] })
    return await h.createWritable()
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') return null
    throw e
  }
}
