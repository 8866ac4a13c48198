// How a job's input travels to the gateway, in one place: today a POST
// /v1/jobs of the file as it is (NDJSON, CSV) or of a JSON body built in
// the browser. A resumable transport (tus, for large files) replaces
// upload() and maxBytes() here; the Batch page does not change.
import { ref } from 'vue'
import { submitJob, submitJobFile } from '@/api/http'
import type { JobStatus, Limits } from '@/api/types'
import type { RawType } from '@/lib/parseClient'
import { useJobsStore, type InputRefs } from '@/stores/jobs'

export type UploadPayload = { kind: 'file'; file: Blob; contentType: RawType } | { kind: 'json'; body: ArrayBuffer }

export interface JobUpload {
  model: string
  version: string
  /** The input's name (its file's), listed with the job. */
  name?: string
  idempotencyKey: string
  payload: UploadPayload
  /** Input lines / names per item, kept for this session's exports. */
  refs?: InputRefs
}

export function payloadBytes(p: UploadPayload): number {
  return p.kind === 'file' ? p.file.size : p.body.byteLength
}

export function useJobUpload() {
  const jobs = useJobsStore()
  const busy = ref(false)

  /** The byte limit this transport is held to. */
  function maxBytes(l: Limits): number {
    return l.max_body_bytes
  }

  /** Sends the job; resolves with its status once the gateway accepted it. */
  async function upload(u: JobUpload): Promise<JobStatus> {
    busy.value = true
    try {
      const p = u.payload
      const r =
        p.kind === 'file'
          ? await submitJobFile(p.file, { contentType: p.contentType, model: u.model, version: u.version, name: u.name }, u.idempotencyKey)
          : await submitJob(p.body, u.idempotencyKey)
      return jobs.added(r, u.refs)
    } finally {
      busy.value = false
    }
  }

  return { busy, upload, maxBytes }
}
