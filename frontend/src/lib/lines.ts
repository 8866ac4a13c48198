// Reads a text file line by line as a stream: slices of `chunkBytes` are
// read and decoded one after another, so what is held at once is one slice
// and the line being completed, whatever the file's size (a 1 GB file is
// read in about 1,000 slices and never held whole). Works in a Web Worker,
// on the main thread and in jsdom (FileReader where Blob.arrayBuffer is
// missing). Pure of the DOM otherwise.

/** How much of the file is read at once. */
export const CHUNK_BYTES = 1 << 20

/** The longest line accepted (the gateway's GATEWAY_MAX_LINE_BYTES default). */
export const MAX_LINE_CHARS = 32 << 20

export interface LineOptions {
  chunkBytes?: number
  maxLineChars?: number
  /** Called after each slice with the bytes read so far and the file's size. */
  onBytes?: (read: number, size: number) => void
  /** Checked between slices: true stops the reading. */
  stopped?: () => boolean
}

/** A line too long to be an item (a file that is not line-based, or a broken one). */
export class LineTooLongError extends Error {
  readonly line: number
  constructor(line: number, max: number) {
    super(`line ${line} is longer than ${Math.round(max / (1 << 20))} MiB: this is not one item per line`)
    this.name = 'LineTooLongError'
    this.line = line
  }
}

function viaReader(b: Blob): Promise<ArrayBuffer> {
  return new Promise((resolve, reject) => {
    const r = new FileReader()
    r.onload = () => resolve(r.result as ArrayBuffer)
    r.onerror = () => reject(r.error ?? new Error('cannot read the file'))
    r.readAsArrayBuffer(b)
  })
}

/** A slice's bytes (FileReader where Blob.arrayBuffer is missing, e.g. jsdom). */
export async function readSlice(b: Blob): Promise<Uint8Array> {
  const buf = typeof b.arrayBuffer === 'function' ? await b.arrayBuffer() : await viaReader(b)
  return new Uint8Array(buf)
}

/**
 * Calls `each` with every line of `file` (without its LF or CRLF) and its
 * 1-based number; a UTF-8 byte order mark before the first line is dropped.
 * Resolves with the number of lines.
 */
export async function eachLine(file: Blob, each: (text: string, line: number) => void, opts: LineOptions = {}): Promise<number> {
  const chunk = opts.chunkBytes ?? CHUNK_BYTES
  const maxLine = opts.maxLineChars ?? MAX_LINE_CHARS
  const decoder = new TextDecoder('utf-8')
  let rest = ''
  let line = 0
  for (let off = 0; off < file.size; off += chunk) {
    if (opts.stopped?.()) return line
    const end = Math.min(file.size, off + chunk)
    let text = rest + decoder.decode(await readSlice(file.slice(off, end)), { stream: end < file.size })
    if (off === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    let start = 0
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const stop = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl
      each(text.slice(start, stop), ++line)
      start = nl + 1
    }
    rest = text.slice(start)
    if (rest.length > maxLine) throw new LineTooLongError(line + 1, maxLine)
    opts.onBytes?.(end, file.size)
  }
  rest += decoder.decode()
  if (rest !== '') each(rest.endsWith('\r') ? rest.slice(0, -1) : rest, ++line)
  return line
}

/** A whole (small) file as text. */
export async function readText(b: Blob): Promise<string> {
  return new TextDecoder('utf-8').decode(await readSlice(b))
}
