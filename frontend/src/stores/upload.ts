// The resumable upload of a large file (tus 1.0.0 at /v1/uploads, with
// tus-js-client), owned here rather than by a page: it goes on while the
// user looks at other pages, and one is sent at a time.
//
// - The file goes in PATCHes of `chunkBytesFor(size)`; a failed request is
//   retried after RETRY_DELAYS (HEAD first: the gateway keeps what arrived),
//   then the upload stops ("failed") until Resume, or by itself once the
//   browser is back online.
// - Pause aborts the request in flight (the gateway keeps what arrived);
//   Resume asks the gateway where it stands and goes on from there.
// - A reload, a crash or a closed tab: the upload's URL stays in
//   localStorage (lib/uploadStorage.ts) under the tenant and the file's
//   name, size and date; choosing the same file again resumes it.
//   `unfinished` lists this tenant's, with Discard (tus termination).
// - Progress: bytes sent, bytes per second over the last 5 s and the time
//   left (lib/rate.ts).
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import { DetailedError, Upload, type HttpStack, type PreviousUpload } from 'tus-js-client'
import { ApiError, authToken, errorFromResponse, reportUnauthorized } from '@/api/http'
import { errorText } from '@/lib/errors'
import { RateMeter } from '@/lib/rate'
import { fingerprintOf, LocalUploadStorage, type FileIdentity } from '@/lib/uploadStorage'

export const UPLOADS_ENDPOINT = '/v1/uploads'

/** Waits between the retries of a failed request (then the upload stops until Resume or the network is back). */
export const RETRY_DELAYS = [0, 1000, 3000, 5000, 10_000]

/** The size of a PATCH: an eighth of the file, within 1..16 MiB (a drop loses at most one, progress moves in steps). */
export function chunkBytesFor(size: number): number {
  return Math.min(16 << 20, Math.max(1 << 20, Math.ceil(size / 8)))
}

/** The upload's id: the last segment of its URL (what POST /v1/jobs?upload= takes). */
export function uploadIdOf(url: string): string {
  return decodeURIComponent(new URL(url, 'http://x').pathname.split('/').filter(Boolean).pop() ?? '')
}

export type TransferPhase = 'uploading' | 'paused' | 'failed' | 'done'

export interface Transfer {
  name: string
  size: number
  sent: number
  /** Bytes per second, null until measured. */
  rate: number | null
  etaMs: number | null
  phase: TransferPhase
  /** Why it stopped (phase failed), in words. */
  error: string | null
  /** The offset an earlier upload of the file had reached (a resume), else null. */
  resumedFrom: number | null
  /** The retry under way after a failed request (0: none). */
  retry: number
}

export interface FileToSend extends FileIdentity {
  /** What is sent (the file, or a slice of it past a byte order mark). */
  blob: Blob
  type: string
}

let httpStack: HttpStack | undefined
let retryDelays = RETRY_DELAYS

/**
 * Sends the uploads' requests through another HTTP stack (unit tests: an
 * in-memory tus server; undefined: XHR), with other waits between retries.
 */
export function configureUploads(c: { httpStack?: HttpStack; retryDelays?: number[] }): void {
  httpStack = c.httpStack
  retryDelays = c.retryDelays ?? RETRY_DELAYS
}

function storage(): LocalUploadStorage | null {
  try {
    return new LocalUploadStorage(window.localStorage)
  } catch {
    return null // no storage: uploads do not survive a reload
  }
}

/** An error of tus-js-client in words: the gateway's JSON error when it answered, else the network. */
export function uploadErrorText(e: unknown): string {
  const res = e instanceof DetailedError ? e.originalResponse : null
  if (res) return errorText(errorFromResponse(res.getStatus(), res.getBody(), res.getHeader('Retry-After') ?? null))
  return errorText(new ApiError(0, 'network', 'the connection to the gateway failed'))
}

export const useUploadStore = defineStore('upload', () => {
  const transfer = ref<Transfer | null>(null)
  /** This tenant's uploads that a reload or a closed tab left unfinished. */
  const unfinished = shallowRef<PreviousUpload[]>([])
  const urls = storage()
  const meter = new RateMeter()
  let upload: Upload | null = null
  let settle: { resolve: (id: string) => void; reject: (e: Error) => void } | null = null
  let current: FileToSend | null = null

  function patch(p: Partial<Transfer>): void {
    if (transfer.value) transfer.value = { ...transfer.value, ...p }
  }

  let token: string | null = null
  /** Whether the upload under way continues one the browser remembered. */
  let resuming = false

  function onProgress(sent: number, total: number): void {
    const t = transfer.value
    if (!t) return
    meter.add(sent, performance.now())
    patch({ sent, rate: meter.rate(), etaMs: meter.etaMs(total), retry: 0 })
  }

  /** A HEAD says where the gateway stands: on a resume, that is where this upload goes on from. */
  function onAfterResponse(req: { getMethod(): string }, res: { getStatus(): number; getHeader(h: string): string | undefined }): void {
    if (req.getMethod() !== 'HEAD' || res.getStatus() >= 300) return
    const offset = Number(res.getHeader('Upload-Offset'))
    if (!Number.isFinite(offset)) return
    meter.reset()
    meter.add(offset, performance.now())
    if (resuming && transfer.value?.resumedFrom === null) patch({ resumedFrom: offset, sent: offset })
    else patch({ sent: offset })
  }

  function onError(e: Error): void {
    const res = e instanceof DetailedError ? e.originalResponse : null
    if (res?.getStatus() === 401) reportUnauthorized(token, errorFromResponse(401, res.getBody()))
    meter.reset()
    patch({ phase: 'failed', error: uploadErrorText(e), rate: null, etaMs: null, retry: 0 })
  }

  function options(f: FileToSend) {
    return {
      endpoint: new URL(UPLOADS_ENDPOINT, window.location.href).href,
      ...(httpStack ? { httpStack } : {}), // (an undefined one would replace tus-js-client's default)
      metadata: { filename: f.name, filetype: f.type },
      chunkSize: chunkBytesFor(f.blob.size),
      retryDelays,
      removeFingerprintOnSuccess: false, // removed once the job exists (forget)
      ...(urls ? { urlStorage: urls } : {}),
      storeFingerprintForResuming: !!urls,
      fingerprint: () => Promise.resolve(fingerprintOf(f)),
      onBeforeRequest: (req: { setHeader(k: string, v: string): void }) => {
        token = authToken()
        if (token) req.setHeader('Authorization', `Bearer ${token}`)
      },
      onShouldRetry: (err: DetailedError, attempt: number) => {
        const status = err.originalResponse?.getStatus() ?? 0
        const again = (status === 0 || status >= 500 || status === 409 || status === 423) && navigator.onLine !== false
        if (again) patch({ retry: attempt + 1 })
        return again
      },
      onProgress,
      onAfterResponse,
      onError,
      onSuccess: () => {
        meter.reset()
        patch({ phase: 'done', sent: f.blob.size, rate: null, etaMs: 0, error: null })
        settle?.resolve(uploadIdOf(upload!.url!))
        settle = null
      },
    }
  }

  /**
   * Sends f, resuming an earlier upload of the same file when the browser
   * remembers one; resolves with the upload's id once every byte is
   * stored. Stays pending while paused or failed (Resume goes on); rejects
   * only when cancelled.
   */
  async function send(f: FileToSend): Promise<string> {
    if (upload && transfer.value?.phase !== 'done') throw new Error('an upload is already under way')
    meter.reset()
    const u = new Upload(f.blob, options(f))
    upload = u
    current = f
    transfer.value = { name: f.name, size: f.blob.size, sent: 0, rate: null, etaMs: null, phase: 'uploading', error: null, resumedFrom: null, retry: 0 }
    const previous = await u.findPreviousUploads()
    const p = new Promise<string>((resolve, reject) => (settle = { resolve, reject }))
    resuming = !!previous[0]
    if (previous[0]) u.resumeFromPreviousUpload(previous[0])
    u.start()
    return p
  }

  function pause(): void {
    if (!upload || transfer.value?.phase !== 'uploading') return
    void upload.abort(false)
    meter.reset()
    patch({ phase: 'paused', rate: null, etaMs: null, retry: 0 })
  }

  function resume(): void {
    if (!upload || (transfer.value?.phase !== 'paused' && transfer.value?.phase !== 'failed')) return
    patch({ phase: 'uploading', error: null })
    upload.start()
  }

  /** Stops the upload and deletes what the gateway stored of it (tus termination). */
  async function cancel(): Promise<void> {
    const u = upload
    upload = null
    current = null
    settle?.reject(new Error('cancelled'))
    settle = null
    transfer.value = null
    meter.reset()
    if (u) await u.abort(true).catch(() => undefined)
  }

  /**
   * Stops the upload under way without deleting it (a sign-out): the
   * browser still remembers it, and choosing the file again resumes it.
   */
  function release(): void {
    const u = upload
    upload = null
    current = null
    settle?.reject(new Error('cancelled'))
    settle = null
    transfer.value = null
    unfinished.value = []
    meter.reset()
    if (u) void u.abort(false)
  }

  /** The upload became a job: the browser need not remember it any more. */
  async function forget(): Promise<void> {
    const f = current
    upload = null
    current = null
    transfer.value = null
    if (!f || !urls) return
    for (const u of await urls.findUploadsByFingerprint(fingerprintOf(f))) await urls.removeUpload(u.urlStorageKey)
  }

  async function loadUnfinished(tenant: string): Promise<void> {
    unfinished.value = urls ? await urls.forTenant(tenant) : []
  }

  /** Deletes an unfinished upload the browser remembers (on the gateway too). */
  async function discard(prev: PreviousUpload, tenant: string): Promise<void> {
    if (prev.uploadUrl) {
      await Upload.terminate(prev.uploadUrl, {
        ...(httpStack ? { httpStack } : {}),
        onBeforeRequest: (req) => {
          const t = authToken()
          if (t) req.setHeader('Authorization', `Bearer ${t}`)
        },
      }).catch(() => undefined) // gone already (expired): forgotten all the same
    }
    await urls?.removeUpload(prev.urlStorageKey)
    await loadUnfinished(tenant)
  }

  if (typeof window !== 'undefined') {
    window.addEventListener('online', () => {
      if (transfer.value?.phase === 'failed') resume()
    })
  }

  return { transfer, unfinished, send, pause, resume, cancel, release, forget, loadUnfinished, discard }
})
