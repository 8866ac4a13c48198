import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { DetailedError } from 'tus-js-client'
import { setAuth } from '@/api/http'
import { FakeTusServer } from '@/api/testing/fakeTus'
import { chunkBytesFor, uploadErrorText, uploadIdOf, configureUploads, useUploadStore, type FileToSend } from './upload'

let server: FakeTusServer

function file(size: number, name = 'rows.ndjson'): FileToSend {
  return { blob: new Blob([new Uint8Array(size)]), type: 'application/x-ndjson', tenant: 'acme', name, size, lastModified: 1 }
}

/** Waits until cond holds (the store's work runs on promises and tus-js-client's timers). */
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

beforeEach(() => {
  setActivePinia(createPinia())
  localStorage.clear()
  server = new FakeTusServer()
  configureUploads({ httpStack: server, retryDelays: [0, 10, 10, 10, 10] })
  setAuth({ token: () => 'bik_key' })
})

afterEach(() => {
  configureUploads({})
  setAuth(null)
})

describe('chunks and ids', () => {
  it('sends an eighth of the file per PATCH, within 1..16 MiB', () => {
    expect(chunkBytesFor(100)).toBe(1 << 20)
    expect(chunkBytesFor(64 << 20)).toBe(8 << 20)
    expect(chunkBytesFor(2 ** 30)).toBe(16 << 20)
  })
  it('takes the id from the upload URL', () => {
    expect(uploadIdOf('http://h/v1/uploads/abc123')).toBe('abc123')
    expect(uploadIdOf('/v1/uploads/abc123/')).toBe('abc123')
  })
})

describe('useUploadStore', () => {
  it('uploads in chunks with the key, and resolves with the upload id', async () => {
    const s = useUploadStore()
    const id = await s.send(file(3 << 20))
    expect(id).toBe('u1')
    expect(server.uploads.get('u1')).toMatchObject({ offset: 3 << 20, length: 3 << 20 })
    expect(server.log.map((r) => r.method)).toEqual(['POST', 'PATCH', 'PATCH', 'PATCH'])
    expect(server.log.every((r) => r.auth === 'Bearer bik_key')).toBe(true)
    expect(s.transfer).toMatchObject({ phase: 'done', sent: 3 << 20 })
  })

  it('after a connection cut mid-PATCH asks where the gateway stands and sends only the rest', async () => {
    const s = useUploadStore()
    server.fail('PATCH', { cut: 300_000 }) // the first PATCH: 300,000 bytes arrive, then the connection drops
    await s.send(file(2 << 20))
    expect(server.log.map((r) => [r.method, r.offset])).toEqual([
      ['POST', undefined],
      ['PATCH', '0'],
      ['HEAD', undefined],
      ['PATCH', '300000'],
      ['PATCH', String(300_000 + (1 << 20))],
    ])
    expect(server.uploads.get('u1')!.offset).toBe(2 << 20)
  })

  it('stops after its retries, says why, and Resume goes on from the stored offset', async () => {
    const s = useUploadStore()
    server.fail('PATCH', 'network', 'network', 'network', 'network', 'network', 'network')
    const done = s.send(file(1 << 20))
    await until(() => s.transfer?.phase === 'failed', 5000)
    expect(s.transfer!.error).toContain('Could not reach the gateway')
    s.resume()
    expect(await done).toBe('u1')
    expect(server.uploads.size).toBe(1)
  })

  it('a refusal is not retried: the gateway’s words are shown (429 with Retry-After)', async () => {
    const s = useUploadStore()
    const body = JSON.stringify({ error: { code: 'quota_exceeded', message: 'tenant acme has 20 unfinished uploads' } })
    server.fail('POST', { status: 429, body, headers: { 'Retry-After': '30' } })
    void s.send(file(1000))
    await until(() => s.transfer?.phase === 'failed')
    expect(s.transfer!.error).toContain('tenant acme has 20 unfinished uploads')
    expect(s.transfer!.error).toContain('30 s')
    expect(server.log.filter((r) => r.method === 'POST')).toHaveLength(1)
  })

  it('pauses and resumes; a second send of the same file (a reload) resumes the stored upload', async () => {
    const s = useUploadStore()
    server.fail('PATCH', { cut: 1 << 20 }) // the first chunk arrives, then the tab "closes"
    server.fail('HEAD', 'network', 'network', 'network', 'network', 'network', 'network')
    void s.send(file(4 << 20))
    await until(() => s.transfer?.phase === 'failed')
    // A reload: a new store, the same localStorage.
    setActivePinia(createPinia())
    const again = useUploadStore()
    await again.loadUnfinished('acme')
    expect(again.unfinished.map((u) => u.metadata.filename)).toEqual(['rows.ndjson'])
    await again.loadUnfinished('other')
    expect(again.unfinished).toEqual([])
    const id = await again.send(file(4 << 20))
    expect(id).toBe('u1')
    expect(again.transfer!.resumedFrom).toBe(1 << 20)
    expect(server.log.filter((r) => r.method === 'POST')).toHaveLength(1)
    await again.forget()
    await again.loadUnfinished('acme')
    expect(again.unfinished).toEqual([])
  })

  it('cancel deletes the upload on the gateway and in the browser', async () => {
    const s = useUploadStore()
    server.fail('PATCH', { status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }, { status: 503 })
    const done = s.send(file(1000))
    await until(() => server.uploads.size === 1)
    s.pause()
    expect(s.transfer!.phase).toBe('paused')
    await s.cancel()
    await expect(done).rejects.toThrow('cancelled')
    expect(server.uploads.size).toBe(0)
    await s.loadUnfinished('acme')
    expect(s.unfinished).toEqual([])
  })
})

describe('uploadErrorText', () => {
  it('words a network failure', () => {
    expect(uploadErrorText(new Error('x'))).toContain('Could not reach the gateway')
  })
  it('words the gateway’s JSON error', () => {
    const e = new DetailedError('tus: unexpected response')
    e.originalResponse = {
      getStatus: () => 413,
      getHeader: () => undefined,
      getBody: () => JSON.stringify({ error: { code: 'body_too_large', message: 'Upload-Length 9 is over the largest upload' } }),
      getUnderlyingObject: () => null,
    }
    expect(uploadErrorText(e)).toContain('over the largest upload')
  })
})
