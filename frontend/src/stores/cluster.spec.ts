import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { throughputByModel, useClusterStore, POLL_MS } from './cluster'
import type { ClusterInfo } from '@/api/types'

function info(rate: number): ClusterInfo {
  return {
    workers: [
      {
        id: 'w1',
        host: 'h',
        models: ['digits:1', 'iris:1'],
        started_at: '',
        last_seen: '',
        items_total: 0,
        batches_total: 0,
        items_per_sec: rate,
        items_per_sec_by_model: { 'digits:1': rate, 'iris:1': 0 },
        in_flight: 0,
      },
      { id: 'w2', host: 'h', models: ['digits:1'], started_at: '', last_seen: '', items_total: 0, batches_total: 0, items_per_sec: 10, in_flight: 0 },
    ],
    queue: { pending_chunks: 1, in_flight_chunks: 2, by_model: { 'digits:1': { pending_chunks: 1 } } },
  }
}

beforeEach(() => {
  setActivePinia(createPinia())
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

describe('cluster store', () => {
  it('takes each model’s rate as the workers announce it, never a worker’s rate split evenly', () => {
    // w1 ran only digits: iris stays 0 (it used to get half of w1's rate).
    expect(throughputByModel(info(20))).toEqual({ 'digits:1': 30, 'iris:1': 0 })
    const old = info(20)
    delete old.workers[0]!.items_per_sec_by_model
    expect(throughputByModel(old)).toEqual({ 'not split by model': 20, 'digits:1': 10 })
  })

  it('polls every second while acquired and records throughput history', async () => {
    let n = 0
    const fetch = vi.fn(async () => new Response(JSON.stringify(info(++n * 10))))
    vi.stubGlobal('fetch', fetch)
    const c = useClusterStore()
    const release = c.acquire()
    await vi.advanceTimersByTimeAsync(0)
    expect(fetch).toHaveBeenCalledTimes(1)
    await vi.advanceTimersByTimeAsync(POLL_MS)
    await vi.advanceTimersByTimeAsync(POLL_MS)
    expect(fetch).toHaveBeenCalledTimes(3)
    expect(c.history.map((p) => p.total)).toEqual([20, 30, 40])
    expect(c.workersByModel.get('digits:1')).toEqual(['w1', 'w2'])
    release()
    await vi.advanceTimersByTimeAsync(POLL_MS * 5)
    expect(fetch).toHaveBeenCalledTimes(3)
  })
})
