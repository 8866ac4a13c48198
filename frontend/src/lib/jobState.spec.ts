import { describe, expect, it } from 'vitest'
import type { JobStatus } from '@/api/types'
import { aboutText, describeJob, isTerminal, progressOf, queueText, rateOf } from './jobState'

function job(over: Partial<JobStatus>): JobStatus {
  return {
    id: 'j1',
    model: 'digits',
    version: '1',
    state: 'running',
    total: 100_000,
    done: 0,
    failed: 0,
    skipped: 0,
    priority: 'normal',
    chunks: 391,
    created_at: '2026-01-01T00:00:00Z',
    elapsed_ms: 0,
    items_per_sec: 0,
    ...over,
  }
}

describe('describeJob', () => {
  it.each([
    [{ state: 'queued' }, 'queued', 'queued — 100,000 items waiting for a worker', 'muted'],
    [{ state: 'running', done: 40_000, failed: 2 }, 'running', 'running: 40,000 done, 2 failed of 100,000', 'accent'],
    [{ state: 'completed', done: 100_000 }, 'completed', 'completed: 100,000 done', 'ok'],
    [{ state: 'completed', done: 99_990, failed: 10 }, 'completed with failures', 'completed with failures: 99,990 done, 10 failed', 'warn'],
    // The contract: items not run are skipped, not failed.
    [{ state: 'cancelled', done: 78_336, skipped: 21_664 }, 'cancelled', 'cancelled: 78,336 done, 21,664 skipped', 'warn'],
    [{ state: 'deadline_exceeded', done: 5, failed: 1, skipped: 99_994 }, 'deadline passed', 'deadline passed: 5 done, 1 failed, 99,994 skipped', 'warn'],
    [{ state: 'failed', done: 10, error: 'results store full' }, 'failed', 'failed: results store full (10 done)', 'error'],
    [{ state: 'expired', done: 100_000 }, 'results expired', 'results expired: 100,000 done; the results were removed after their retention', 'muted'],
  ] as [Partial<JobStatus>, string, string, string][])('%o → %s', (over, label, summary, tone) => {
    const v = describeJob(job(over))
    expect(v.label).toBe(label)
    expect(v.summary).toBe(summary)
    expect(v.tone).toBe(tone)
  })

  it('a queued job says where it stands and when it should start, never "running"', () => {
    const now = Date.parse('2030-01-01T00:00:00Z')
    const queue = { items_ahead: 12_800, estimated_start: '2030-01-01T00:00:03Z' }
    const v = describeJob(job({ state: 'queued', queue }), now)
    expect(v).toMatchObject({ label: 'queued', key: 'queued', summary: 'queued — 12,800 items ahead, starts in ~3 s' })
    expect(queueText({ items_ahead: 0 }, now)).toBe('next in line')
    expect(queueText({ items_ahead: 1, estimated_start: '2029-12-31T23:59:00Z' }, now)).toBe('1 item ahead, starts any moment')
  })

  it('a job whose dataset is being read says how much is read', () => {
    expect(describeJob(job({ state: 'queued', ingesting: true, read: 5000, total: 1_000_000 })).summary).toBe(
      'queued — reading the dataset: 5,000 items read so far',
    )
    expect(describeJob(job({ state: 'running', ingesting: true, read: 5000, done: 256, total: 1_000_000 })).summary).toBe(
      'running: 256 done (reading the dataset: 5,000 items read so far, of at most 1,000,000)',
    )
  })

  it('rounds waits', () => {
    expect([aboutText(400), aboutText(3_400), aboutText(125_000), aboutText(3 * 3600_000 + 5 * 60_000)]).toEqual(['~1 s', '~3 s', '~2 min', '~3 h 5 min'])
  })

  it('a cancelled job is not 100 %: skipped items are not progress', () => {
    const s = job({ state: 'cancelled', done: 78_336, skipped: 21_664 })
    expect(progressOf(s)).toBeCloseTo(0.78336)
    const v = describeJob(s)
    expect(v).toMatchObject({ processed: 78_336, skipped: 21_664, pending: 0, finished: true })
  })

  it('every terminal state is finished', () => {
    for (const state of ['completed', 'cancelled', 'failed', 'expired', 'deadline_exceeded'] as const) expect(isTerminal({ state })).toBe(true)
    for (const state of ['queued', 'running'] as const) expect(isTerminal({ state })).toBe(false)
  })
})

describe('rateOf', () => {
  it('takes the server rate, or computes one for a finished job the server gave 0', () => {
    expect(rateOf(job({ items_per_sec: 1234 }))).toBe(1234)
    expect(rateOf(job({ state: 'completed', done: 10, elapsed_ms: 250 }))).toBe(40)
    // cancelled: speed from the items that ran only
    expect(rateOf(job({ state: 'cancelled', done: 300, skipped: 700, elapsed_ms: 3000 }))).toBe(100)
    expect(rateOf(job({ state: 'queued' }))).toBe(0)
    expect(rateOf(job({ state: 'running', done: 5, elapsed_ms: 100 }))).toBeNull()
  })
})
