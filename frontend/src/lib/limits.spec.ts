import { describe, expect, it } from 'vitest'
import type { Limits } from '@/api/types'
import { limitProblems } from './limits'

const limits: Limits = {
  max_job_items: 100_000,
  max_body_bytes: 64 << 20,
  max_upload_bytes: 1 << 30,
  max_sync_items: 64,
  max_json_body_bytes: 64 << 20,
  tenant: { max_jobs: 16, max_items_in_flight: 1_000_000, max_uploads: 20, max_upload_bytes: 10 * 2 ** 30, max_result_bytes: 2 * 2 ** 30 },
}

describe('limitProblems', () => {
  it('passes what fits', () => {
    expect(limitProblems({ items: 100_000, bytes: 64 << 20 }, limits, limits.max_body_bytes)).toEqual([])
  })

  it('explains each limit in words, with what to do', () => {
    expect(limitProblems({ items: 150_000, bytes: 70 << 20 }, limits, limits.max_body_bytes)).toEqual([
      'This file has 150,000 items; one job may have at most 100,000. Split it into 2 files of at most 100,000 items each.',
      'This upload is 70 MiB; the gateway takes at most 64 MiB per job. Split it into 2 smaller files.',
    ])
    expect(limitProblems({ items: 5000, bytes: 10 }, { ...limits, tenant: { ...limits.tenant, max_jobs: 1, max_items_in_flight: 2000 } }, 0)).toEqual([
      'Your API key may have at most 2,000 items in unfinished jobs at once; this job alone has 5,000. Split it into 3 files and submit them one after another.',
    ])
  })

  it('holds a resumable upload to the largest upload and the tenant’s stored uploads', () => {
    const l = { ...limits, max_upload_bytes: 8 * 2 ** 30, tenant: { ...limits.tenant, max_upload_bytes: 2 * 2 ** 30 } }
    expect(limitProblems({ items: 1000, bytes: 3 * 2 ** 30 }, l, l.max_upload_bytes, true)).toEqual([
      'Your API key’s uploads may hold at most 2 GiB together; this file alone is 3 GiB. Split it into 2 files.'.replace('’', "'"),
    ])
    expect(limitProblems({ items: 1000, bytes: 9 * 2 ** 30 }, l, l.max_upload_bytes, true)).toEqual([
      'This upload is 9 GiB; the gateway takes at most 8 GiB per job. Split it into 2 smaller files.',
    ])
  })
})
