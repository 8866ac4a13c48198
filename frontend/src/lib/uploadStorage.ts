// Where the browser remembers its unfinished uploads, so that one resumes
// after a reload, a crash or a dropped network: tus-js-client's URL storage
// (UrlStorage) over localStorage, under this app's own prefix. An entry is
// the upload's URL (not a secret: the upload answers only its tenant's
// key), its size, metadata (file name and type) and creation time, keyed
// by a fingerprint of the tenant and the file. Entries older than the
// gateway keeps an unfinished upload (UPLOAD_TTL, 24 h) are dropped.
import type { PreviousUpload, UrlStorage } from 'tus-js-client'

export const UPLOAD_PREFIX = 'batchinfer.upload::'

/** How long an entry is worth keeping (the gateway's default UPLOAD_TTL). */
export const UPLOAD_KEEP_MS = 24 * 3600 * 1000

/** What identifies a file across reloads: its tenant, name, size and modification time. */
export interface FileIdentity {
  tenant: string
  name: string
  size: number
  lastModified: number
}

export function fingerprintOf(f: FileIdentity): string {
  // The tenant first: another tenant's key never tries this tenant's upload.
  return ['v1', encodeURIComponent(f.tenant), encodeURIComponent(f.name), f.size, f.lastModified].join(':')
}

export class LocalUploadStorage implements UrlStorage {
  private readonly store: Storage
  private readonly now: () => number

  constructor(store: Storage, now: () => number = Date.now) {
    this.store = store
    this.now = now
  }

  private entries(prefix: string): PreviousUpload[] {
    const out: PreviousUpload[] = []
    for (let i = 0; i < this.store.length; i++) {
      const key = this.store.key(i)
      if (!key || !key.startsWith(prefix)) continue
      try {
        const u = JSON.parse(this.store.getItem(key) ?? '') as PreviousUpload
        if (typeof u.uploadUrl === 'string') out.push({ ...u, urlStorageKey: key })
      } catch {
        /* a broken entry never blocks an upload */
      }
    }
    return out
  }

  /** Drops entries older than UPLOAD_KEEP_MS (their uploads have expired). */
  prune(): void {
    const stale = this.entries(UPLOAD_PREFIX).filter((u) => {
      const t = Date.parse(u.creationTime)
      return Number.isNaN(t) || this.now() - t > UPLOAD_KEEP_MS
    })
    for (const u of stale) this.store.removeItem(u.urlStorageKey)
  }

  findAllUploads(): Promise<PreviousUpload[]> {
    this.prune()
    return Promise.resolve(this.entries(UPLOAD_PREFIX))
  }

  /** The unfinished uploads of a tenant, newest first. */
  async forTenant(tenant: string): Promise<PreviousUpload[]> {
    const all = await this.findAllUploads()
    const prefix = `${UPLOAD_PREFIX}v1:${encodeURIComponent(tenant)}:`
    return all.filter((u) => u.urlStorageKey.startsWith(prefix)).sort((a, b) => b.creationTime.localeCompare(a.creationTime))
  }

  findUploadsByFingerprint(fingerprint: string): Promise<PreviousUpload[]> {
    this.prune()
    return Promise.resolve(this.entries(`${UPLOAD_PREFIX}${fingerprint}::`))
  }

  removeUpload(urlStorageKey: string): Promise<void> {
    this.store.removeItem(urlStorageKey)
    return Promise.resolve()
  }

  addUpload(fingerprint: string, upload: PreviousUpload): Promise<string> {
    // One entry per file: a new upload of the same file replaces the old entry.
    for (const u of this.entries(`${UPLOAD_PREFIX}${fingerprint}::`)) this.store.removeItem(u.urlStorageKey)
    const key = `${UPLOAD_PREFIX}${fingerprint}::${Math.round(Math.random() * 1e12)}`
    this.store.setItem(key, JSON.stringify(upload))
    return Promise.resolve(key)
  }
}
