// A tiny in-memory tus 1.0.0 server behind tus-js-client's HttpStack, for
// unit tests of the upload store: creation (POST → 201 + Location), HEAD
// (Upload-Offset, Upload-Length), PATCH at the right offset (409 else),
// DELETE; what arrived of a PATCH cut short (`cut`) is kept, as the
// gateway keeps it. `fail` answers the next requests of a method with a
// network error or a status.
import type { HttpRequest, HttpResponse, HttpStack } from 'tus-js-client'

interface Stored {
  length: number
  offset: number
  metadata: string
}

type Fault = { status: number; body?: string; headers?: Record<string, string> } | 'network' | { cut: number }

class Res implements HttpResponse {
  constructor(
    private readonly status: number,
    private readonly headers: Record<string, string> = {},
    private readonly body = '',
  ) {}
  getStatus(): number {
    return this.status
  }
  getHeader(h: string): string | undefined {
    const k = Object.keys(this.headers).find((x) => x.toLowerCase() === h.toLowerCase())
    return k === undefined ? undefined : this.headers[k]
  }
  getBody(): string {
    return this.body
  }
  getUnderlyingObject(): unknown {
    return null
  }
}

export class FakeTusServer implements HttpStack {
  readonly uploads = new Map<string, Stored>()
  /** Every request: method, path and the headers that matter. */
  readonly log: { method: string; path: string; offset?: string; auth?: string }[] = []
  private readonly faults: Record<string, Fault[]> = {}
  private next = 1

  /** The next requests of `method` meet these faults, one each. */
  fail(method: string, ...faults: Fault[]): void {
    ;(this.faults[method] ??= []).push(...faults)
  }

  getName(): string {
    return 'fake-tus'
  }

  createRequest(method: string, url: string): HttpRequest {
    const headers: Record<string, string> = {}
    let progress: (n: number) => void = () => {}
    const path = new URL(url).pathname
    return {
      getMethod: () => method,
      getURL: () => url,
      setHeader: (k, v) => void (headers[k] = v),
      getHeader: (k) => headers[k],
      setProgressHandler: (h) => void (progress = h),
      abort: () => Promise.resolve(),
      getUnderlyingObject: () => null,
      send: async (body?: Blob) => {
        await Promise.resolve()
        this.log.push({ method, path, offset: headers['Upload-Offset'], auth: headers.Authorization })
        const fault = this.faults[method]?.shift()
        if (fault === 'network') throw new Error('network error')
        if (fault && 'status' in fault) return new Res(fault.status, fault.headers, fault.body)
        const res = this.handle(method, path, headers, body?.size ?? 0, fault && 'cut' in fault ? fault.cut : undefined)
        if (method === 'PATCH' && res.getStatus() === 204) progress(body?.size ?? 0)
        if (fault && 'cut' in fault) throw new Error('connection reset')
        return res
      },
    }
  }

  private handle(method: string, path: string, h: Record<string, string>, size: number, cut?: number): Res {
    const id = path.split('/').pop()!
    const u = this.uploads.get(id)
    switch (method) {
      case 'POST': {
        const nid = `u${this.next++}`
        this.uploads.set(nid, { length: Number(h['Upload-Length']), offset: 0, metadata: h['Upload-Metadata'] ?? '' })
        return new Res(201, { Location: `/v1/uploads/${nid}` })
      }
      case 'HEAD':
        return u ? new Res(200, { 'Upload-Offset': String(u.offset), 'Upload-Length': String(u.length) }) : new Res(404)
      case 'PATCH': {
        if (!u) return new Res(404)
        if (Number(h['Upload-Offset']) !== u.offset) return new Res(409)
        u.offset += cut ?? size
        return new Res(204, { 'Upload-Offset': String(u.offset) })
      }
      case 'DELETE':
        this.uploads.delete(id)
        return new Res(204)
    }
    return new Res(405)
  }
}
