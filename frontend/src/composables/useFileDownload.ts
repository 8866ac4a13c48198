import { ref } from 'vue'
import { API_BASE, ApiError, authToken, errorFromResponse } from '@/api/http'
import { canStreamToDisk, DownloadError, pickFile, streamDownload, type DownloadProgress } from '@/lib/download'
import { errorText } from '@/lib/errors'
import { downloadBlob } from '@/lib/export'

/** A file of the gateway being saved. */
export interface ActiveDownload extends DownloadProgress {
  name: string
  /** Written to disk as it arrives (true), or read whole first. */
  streamed: boolean
}

/**
 * Saves files of the API (a job's output and errors files) with the key in
 * the Authorization header: streamed to disk where the browser can
 * (resuming a dropped connection), else read whole and saved (lib/download.ts).
 */
export function useFileDownload() {
  const active = ref<ActiveDownload | null>(null)
  const error = ref<string | null>(null)

  function headers(): Record<string, string> {
    const t = authToken()
    return t ? { Authorization: `Bearer ${t}` } : {}
  }

  async function refusal(res: Response): Promise<string> {
    return errorText(errorFromResponse(res.status, await res.text().catch(() => ''), res.headers.get('Retry-After')))
  }

  async function viaBlob(url: string, name: string): Promise<void> {
    let res: Response
    try {
      res = await fetch(url, { headers: headers() })
    } catch {
      throw new ApiError(0, 'network', 'the download failed')
    }
    if (!res.ok) throw new DownloadError(res)
    downloadBlob(await res.blob(), name)
  }

  /** Saves `path` (under /v1) as `name`. */
  async function download(path: string, name: string, type: string): Promise<void> {
    if (active.value) return
    error.value = null
    const url = API_BASE + path
    const streamed = canStreamToDisk()
    try {
      if (streamed) {
        const w = await pickFile(name, type)
        if (!w) return
        active.value = { name, received: 0, total: null, streamed }
        await streamDownload((u, init) => fetch(u, init), url, headers(), w, (p) => (active.value = { name, streamed, ...p }))
      } else {
        active.value = { name, received: 0, total: null, streamed }
        await viaBlob(url, name)
      }
    } catch (e) {
      error.value = e instanceof DownloadError ? await refusal(e.response) : errorText(e)
    } finally {
      active.value = null
    }
  }

  return { active, error, download }
}
