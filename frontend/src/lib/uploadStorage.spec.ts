import { describe, expect, it } from 'vitest'
import { fingerprintOf, LocalUploadStorage, UPLOAD_KEEP_MS } from './uploadStorage'

class MemoryStorage implements Storage {
  private m = new Map<string, string>()
  get length(): number {
    return this.m.size
  }
  clear(): void {
    this.m.clear()
  }
  getItem(k: string): string | null {
    return this.m.get(k) ?? null
  }
  key(i: number): string | null {
    return [...this.m.keys()][i] ?? null
  }
  removeItem(k: string): void {
    this.m.delete(k)
  }
  setItem(k: string, v: string): void {
    this.m.set(k, v)
  }
}

const file = { tenant: 'acme', name: 'rows.ndjson', size: 42, lastModified: 7 }
const entry = (url: string, at: number) => ({
  size: 42,
  metadata: { filename: 'rows.ndjson', filetype: 'application/x-ndjson' },
  creationTime: new Date(at).toISOString(),
  urlStorageKey: '',
  uploadUrl: url,
  parallelUploadUrls: null,
})

describe('LocalUploadStorage', () => {
  it('finds an upload again by the file and tenant, never another tenant’s', async () => {
    const now = Date.parse('2030-01-01T00:00:00Z')
    const s = new LocalUploadStorage(new MemoryStorage(), () => now)
    const fp = fingerprintOf(file)
    const key = await s.addUpload(fp, entry('http://x/v1/uploads/a', now))
    expect((await s.findUploadsByFingerprint(fp)).map((u) => [u.uploadUrl, u.urlStorageKey])).toEqual([['http://x/v1/uploads/a', key]])
    expect(await s.findUploadsByFingerprint(fingerprintOf({ ...file, tenant: 'other' }))).toEqual([])
    expect(await s.findUploadsByFingerprint(fingerprintOf({ ...file, lastModified: 8 }))).toEqual([])
    expect((await s.forTenant('acme')).length).toBe(1)
    expect(await s.forTenant('other')).toEqual([])
    await s.removeUpload(key)
    expect(await s.findUploadsByFingerprint(fp)).toEqual([])
  })

  it('keeps one entry per file and drops expired and broken ones', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z')
    const mem = new MemoryStorage()
    const s = new LocalUploadStorage(mem, () => now)
    const fp = fingerprintOf(file)
    await s.addUpload(fp, entry('http://x/v1/uploads/old', now))
    await s.addUpload(fp, entry('http://x/v1/uploads/new', now))
    expect((await s.findUploadsByFingerprint(fp)).map((u) => u.uploadUrl)).toEqual(['http://x/v1/uploads/new'])
    mem.setItem(`batchinfer.upload::${fp}::1`, '{not json')
    expect((await s.findAllUploads()).length).toBe(1)
    now += UPLOAD_KEEP_MS + 1
    expect(await s.findAllUploads()).toEqual([])
    expect(mem.length).toBe(1) // the broken entry is left alone, and ignored
  })
})
