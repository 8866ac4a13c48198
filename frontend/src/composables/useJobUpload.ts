// How a job's input travels to the gateway, in one place:
//
// - an NDJSON or comma-separated CSV file of RESUMABLE_FROM_BYTES (4 MiB) or
//   more: a resumable upload (tus, stores/upload.ts: progress, pause,
//   resume after a drop or a reload), then POST /v1/jobs?upload=ID, which the
//   gateway answers at once and reads in the background;
// - a smaller one: POST /v1/jobs of the file as it is (one request, nothing
//   left on the gateway if it fails; a drop costs at most 4 MiB again);
// - anything else (a JSON document, a CSV separated by ; or tabs, images):
//   POST /v1/jobs of a JSON body built in the browser.
import { ref } from 'vue'
import { submitJob, submitJobFile, submitJobFromUpload, type JobOptions } from '@/api/http'
import type { JobStatus, Limits } from '@/api/types'
import type { RawType } from '@/lib/parseClient'
import { useJobsStore, type InputRefs } from '@/stores/jobs'
import { useSessionStore } from '@/stores/session'
import { useUploadStore } from '@/stores/upload'

/** Files from this size go by resumable upload; smaller ones in one POST. */
export const RESUMABLE_FROM_BYTES = 4 << 20

export type UploadPayload =
  | {
      kind: 'file'
      file: Blob
      contentType: RawType
      /** Bytes to skip (a UTF-8 byte order mark). */
      from?: number
      /** The file's name, size and date: what a resumed upload is found by. */
      identity?: { name: string; lastModified: number }
    }
  | { kind: 'json'; body: ArrayBuffer }

export interface JobUpload extends JobOptions {
  model: string
  version: string
  /** The input's name (its file's), listed with the job. */
  name?: string
  idempotencyKey: string
  payload: UploadPayload
  /** Input lines / names per item, kept for this session's exports. */
  refs?: InputRefs
}

/** Bytes sent of a payload. */
export function payloadBytes(p: UploadPayload): number {
  return p.kind === 'file' ? p.file.size - (p.from ?? 0) : p.body.byteLength
}

/** Whether a payload goes by resumable upload. */
export function isResumable(p: UploadPayload): boolean {
  return p.kind === 'file' && payloadBytes(p) >= RESUMABLE_FROM_BYTES
}

export function useJobUpload() {
  const jobs = useJobsStore()
  const uploads = useUploadStore()
  const session = useSessionStore()
  const busy = ref(false)

  /** The byte limit the payload's transport is held to. */
  function maxBytes(l: Limits, p?: UploadPayload): number {
    if (!p) return l.max_body_bytes
    if (p.kind === 'json') return l.max_json_body_bytes
    return isResumable(p) ? l.max_upload_bytes : l.max_body_bytes
  }

  async function resumable(u: JobUpload, p: Extract<UploadPayload, { kind: 'file' }>): Promise<JobStatus> {
    const blob = p.from ? p.file.slice(p.from) : p.file
    const name = p.identity?.name ?? u.name ?? 'upload'
    const id = await uploads.send({
      blob,
      type: p.contentType,
      tenant: session.tenant ?? 'anonymous',
      name,
      size: p.file.size,
      lastModified: p.identity?.lastModified ?? 0,
    })
    const format = p.contentType === 'text/csv' ? 'csv' : 'ndjson'
    const r = await submitJobFromUpload(id, { model: u.model, version: u.version, name: u.name, format, ...options(u) })
    await uploads.forget()
    return jobs.added(r, u.refs)
  }

  /** Sends the job; resolves with its status once the gateway accepted it. */
  async function upload(u: JobUpload): Promise<JobStatus> {
    busy.value = true
    try {
      const p = u.payload
      if (p.kind === 'file' && isResumable(p)) return await resumable(u, p)
      const r =
        p.kind === 'file'
          ? await submitJobFile(
              p.from ? p.file.slice(p.from) : p.file,
              { contentType: p.contentType, model: u.model, version: u.version, name: u.name, ...options(u) },
              u.idempotencyKey,
            )
          : await submitJob(p.body, u.idempotencyKey, {}, options(u))
      return jobs.added(r, u.refs)
    } finally {
      busy.value = false
    }
  }

  return { busy, upload, maxBytes }
}

function options(u: JobOptions): JobOptions {
  return { priority: u.priority, deadline: u.deadline, maxInvalid: u.maxInvalid, idColumn: u.idColumn }
}
