import { describe, expect, it } from 'vitest'
import type { Limits } from '@/api/types'
import { limitProblems } from './limits'

const limits: Limits = {
  max_job_items: 100_000,
  max_body_bytes: 64 << 20,
  max_upload_bytes: 1 << 30,
  max_sync_items: 64,
  tenant: { max_jobs: 16, max_items_in_flight: 1_000_000 },
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
    expect(limitProblems({ items: 5000, bytes: 10 }, { ...limits, tenant: { max_jobs: 1, max_items_in_flight: 2000 } }, 0)).toEqual([
      'Your API key may have at most 2,000 items in unfinished jobs at once; this job alone has 5,000. Split it into 3 files and submit them one after another.',
    ])
  })
})
