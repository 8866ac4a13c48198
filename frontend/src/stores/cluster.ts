import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { getCluster } from '@/api/http'
import type { ClusterInfo } from '@/api/types'

export interface ThroughputPoint {
  /** ms since epoch */
  t: number
  total: number
  /** items/s per model id ("name:version") */
  byModel: Record<string, number>
}

export const HISTORY_POINTS = 150 // 5 minutes at 2 s
export const POLL_MS = 2000

/** Items/s per model: a worker serving several models has its rate split evenly. */
export function throughputByModel(c: ClusterInfo): Record<string, number> {
  const out: Record<string, number> = {}
  for (const w of c.workers) {
    const n = w.models.length || 1
    for (const m of w.models) out[m] = (out[m] ?? 0) + (w.items_per_sec || 0) / n
  }
  return out
}

export const useClusterStore = defineStore('cluster', () => {
  const info = shallowRef<ClusterInfo | null>(null)
  const error = ref<string | null>(null)
  const history = shallowRef<ThroughputPoint[]>([])
  const lastPoll = ref<number | null>(null)
  let timer: ReturnType<typeof setTimeout> | null = null
  let users = 0
  let inflight = false

  async function poll(): Promise<void> {
    if (inflight) return
    inflight = true
    try {
      const c = await getCluster()
      info.value = c
      error.value = null
      const p: ThroughputPoint = {
        t: Date.now(),
        total: c.workers.reduce((a, w) => a + (w.items_per_sec || 0), 0),
        byModel: throughputByModel(c),
      }
      history.value = [...history.value, p].slice(-HISTORY_POINTS)
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e)
    } finally {
      inflight = false
      lastPoll.value = Date.now()
    }
  }

  function loop(): void {
    timer = setTimeout(async () => {
      await poll()
      if (users > 0) loop()
    }, POLL_MS)
  }

  /** Starts polling every 2 s while at least one user holds it; returns the release function. */
  function acquire(): () => void {
    users++
    if (users === 1) {
      void poll()
      loop()
    }
    let released = false
    return () => {
      if (released) return
      released = true
      users--
      if (users === 0 && timer) {
        clearTimeout(timer)
        timer = null
      }
    }
  }

  /** Workers per model id. */
  const workersByModel = computed(() => {
    const m = new Map<string, string[]>()
    for (const w of info.value?.workers ?? []) {
      for (const id of w.models) m.set(id, [...(m.get(id) ?? []), w.id])
    }
    return m
  })

  return { info, error, history, lastPoll, poll, acquire, workersByModel }
})
