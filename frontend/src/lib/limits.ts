// The gateway's limits checked before an upload (GET /v1/limits), each
// refusal explained in words with what to do: nothing is sent that the
// gateway would refuse for its size.
import type { Limits } from '@/api/types'
import { fmtBytes, fmtInt } from './format'

/** What is known of an upload before it is sent. */
export interface UploadFacts {
  items: number
  /** Bytes the transport sends. */
  bytes: number
}

function parts(n: number, per: number): number {
  return Math.ceil(n / per)
}

/**
 * Why the gateway would refuse the upload, one sentence per limit (empty:
 * it fits). `maxBytes` is the byte limit of the transport in use (a POST
 * body: max_body_bytes or max_json_body_bytes; a resumable upload:
 * max_upload_bytes, which is also held to the tenant's stored uploads).
 */
export function limitProblems(f: UploadFacts, l: Limits, maxBytes: number, resumable = false): string[] {
  const out: string[] = []
  if (f.items > l.max_job_items) {
    out.push(
      `This file has ${fmtInt(f.items)} items; one job may have at most ${fmtInt(l.max_job_items)}. ` +
        `Split it into ${parts(f.items, l.max_job_items)} files of at most ${fmtInt(l.max_job_items)} items each.`,
    )
  }
  if (maxBytes > 0 && f.bytes > maxBytes) {
    out.push(
      `This upload is ${fmtBytes(f.bytes)}; the gateway takes at most ${fmtBytes(maxBytes)} per job. ` +
        `Split it into ${parts(f.bytes, maxBytes)} smaller files.`,
    )
  }
  const stored = l.tenant?.max_upload_bytes ?? 0
  if (resumable && stored > 0 && f.bytes > stored && f.bytes <= maxBytes) {
    out.push(`Your API key's uploads may hold at most ${fmtBytes(stored)} together; this file alone is ${fmtBytes(f.bytes)}. Split it into ${parts(f.bytes, stored)} files.`)
  }
  const inFlight = l.tenant?.max_items_in_flight ?? 0
  if (inFlight > 0 && f.items > inFlight && f.items <= l.max_job_items) {
    out.push(
      `Your API key may have at most ${fmtInt(inFlight)} items in unfinished jobs at once; this job alone has ${fmtInt(f.items)}. ` +
        `Split it into ${parts(f.items, inFlight)} files and submit them one after another.`,
    )
  }
  return out
}
