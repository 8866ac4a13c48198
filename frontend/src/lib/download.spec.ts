import { describe, expect, it } from 'vitest'
import { DownloadError, MAX_RESUMES, streamDownload, type FileWriter } from './download'

/** A file on a "server" that answers Range requests, and drops connections as told. */
function server(content: Uint8Array, opts: { etag?: () => string; dropAfter?: number[] } = {}) {
  const requests: Record<string, string>[] = []
  const drops = [...(opts.dropAfter ?? [])]
  const fetchFn = async (_url: string, init: RequestInit) => {
    const h = init.headers as Record<string, string>
    requests.push(h)
    const etag = opts.etag?.() ?? '"v1"'
    let from = 0
    let status = 200
    const m = h.Range ? /^bytes=(\d+)-$/.exec(h.Range) : null
    if (m && (!h['If-Range'] || h['If-Range'] === etag)) {
      from = Number(m[1])
      status = 206
    }
    const body = content.subarray(from)
    const drop = drops.shift()
    const headers: Record<string, string> = { ETag: etag, 'Content-Length': String(body.length) }
    if (status === 206) headers['Content-Range'] = `bytes ${from}-${content.length - 1}/${content.length}`
    const cut = drop === undefined ? body.length : Math.min(drop, body.length)
    let i = 0
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        if (i < cut) {
          c.enqueue(body.slice(i, Math.min(cut, i + 3)))
          i += 3
        } else if (drop === undefined) c.close()
        else c.error(new TypeError('network error'))
      },
    })
    return new Response(stream, { status, headers })
  }
  return { fetchFn, requests }
}

function writer() {
  let data: number[] = []
  let pos = 0
  const state = { closed: false, aborted: false }
  const w: FileWriter = {
    write: async (d) => {
      data.splice(pos, d.length, ...d)
      pos += d.length
    },
    truncate: async (n) => void (data = data.slice(0, n)),
    seek: async (p) => void (pos = p),
    close: async () => void (state.closed = true),
    abort: async () => void (state.aborted = true),
  }
  return { w, bytes: () => Uint8Array.from(data), state }
}

const file = Uint8Array.from({ length: 40 }, (_, i) => i)

describe('streamDownload', () => {
  it('writes the file as it arrives and closes it', async () => {
    const s = server(file)
    const out = writer()
    const seen: number[] = []
    expect(await streamDownload(s.fetchFn, '/f', { Authorization: 'Bearer k' }, out.w, (p) => seen.push(p.received))).toBe(40)
    expect(out.bytes()).toEqual(file)
    expect(out.state.closed).toBe(true)
    expect(seen.at(-1)).toBe(40)
    expect(s.requests).toEqual([{ Authorization: 'Bearer k' }])
  })

  it('resumes a dropped connection from the bytes written, with If-Range', async () => {
    const s = server(file, { dropAfter: [10, 12] })
    const out = writer()
    await streamDownload(s.fetchFn, '/f', {}, out.w)
    expect(out.bytes()).toEqual(file)
    expect(s.requests.map((h) => [h.Range, h['If-Range']])).toEqual([
      [undefined, undefined],
      ['bytes=10-', '"v1"'],
      ['bytes=22-', '"v1"'],
    ])
  })

  it('starts over when the file changed between two requests', async () => {
    let v = 1
    const s = server(file, { dropAfter: [9], etag: () => `"v${v++}"` })
    const out = writer()
    await streamDownload(s.fetchFn, '/f', {}, out.w)
    expect(out.bytes()).toEqual(file)
    expect(s.requests).toHaveLength(2)
  })

  it('gives up after MAX_RESUMES drops, and at once on a refusal', async () => {
    const s = server(file, { dropAfter: Array(MAX_RESUMES + 1).fill(0) })
    const out = writer()
    await expect(streamDownload(s.fetchFn, '/f', {}, out.w)).rejects.toThrow('network error')
    expect(out.state.aborted).toBe(true)
    const refused = async () => new Response('{"error":{"code":"conflict","message":"running"}}', { status: 409 })
    await expect(streamDownload(refused, '/f', {}, writer().w)).rejects.toBeInstanceOf(DownloadError)
  })
})
