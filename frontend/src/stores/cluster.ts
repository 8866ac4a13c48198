import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { ApiError, getCluster } from '@/api/http'
import type { ClusterInfo } from '@/api/types'
import { errorText } from '@/lib/errors'

export interface ThroughputPoint {
  /** ms since epoch */
  t: number
  total: number
  /** items/s per model id ("name:version") */
  byModel: Record<string, number>
}

export const POLL_MS = 1000
export const HISTORY_POINTS = 300 // 5 minutes at 1 s

/** Series name of the rate of workers that do not say it per model (older workers serving several models). */
export const UNSPLIT = 'not split by model'

/**
 * Items/s per model, as each worker announces it (items_per_sec_by_model).
 * A worker without the map is counted for its model when it serves one,
 * else under UNSPLIT: a rate is never split evenly over models that may
 * have run nothing.
 */
export function throughputByModel(c: ClusterInfo): Record<string, number> {
  const out: Record<string, number> = {}
  const add = (k: string, v: number) => (out[k] = (out[k] ?? 0) + (Number.isFinite(v) ? v : 0))
  for (const w of c.workers) {
    const by = w.items_per_sec_by_model
    if (by) for (const m of w.models) add(m, by[m] ?? 0)
    else if (w.models.length === 1) add(w.models[0]!, w.items_per_sec || 0)
    else if (w.items_per_sec) add(UNSPLIT, w.items_per_sec)
  }
  return out
}

export const useClusterStore = defineStore('cluster', () => {
  const info = shallowRef<ClusterInfo | null>(null)
  const error = ref<string | null>(null)
  const history = shallowRef<ThroughputPoint[]>([])
  const lastPoll = ref<number | null>(null)
  /**
   * GET /v1/cluster answered 403: the key is a user key and the route needs
   * an operator key. Polling stops (every poll would be refused) until the
   * store is cleared (sign-out).
   */
  const forbidden = ref(false)
  /** The last answer was 429: when the next poll goes out (Retry-After). */
  const retryAt = ref<number | null>(null)
  let timer: ReturnType<typeof setTimeout> | null = null
  let users = 0
  let inflight = false
  /** Bumped by clear(): answers of an earlier session are dropped. */
  let epoch = 0

  async function poll(): Promise<void> {
    if (inflight || forbidden.value) return
    inflight = true
    const my = epoch
    try {
      const c = await getCluster()
      if (my !== epoch) return
      info.value = c
      error.value = null
      retryAt.value = null
      const p: ThroughputPoint = {
        t: Date.now(),
        total: c.workers.reduce((a, w) => a + (w.items_per_sec || 0), 0),
        byModel: throughputByModel(c),
      }
      history.value = [...history.value, p].slice(-HISTORY_POINTS)
    } catch (e) {
      if (my !== epoch) return
      if (e instanceof ApiError && e.status === 403) {
        forbidden.value = true
        info.value = null
        error.value = null
        return
      }
      error.value = errorText(e)
      retryAt.value = e instanceof ApiError && e.status === 429 && e.retryAfterMs !== undefined ? Date.now() + e.retryAfterMs : null
    } finally {
      if (my === epoch) {
        inflight = false
        lastPoll.value = Date.now()
      }
    }
  }

  function loop(): void {
    // Every 2 s, or later when a 429 asked for more (Retry-After).
    const wait = Math.max(POLL_MS, (retryAt.value ?? 0) - Date.now())
    timer = setTimeout(async () => {
      timer = null
      if (retryAt.value !== null && retryAt.value > Date.now()) {
        // A 429 answered after this wait was chosen: wait for its Retry-After.
        if (users > 0 && !forbidden.value) loop()
        return
      }
      await poll()
      if (users > 0 && !forbidden.value && !timer) loop()
    }, wait)
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

  /** Forgets everything (sign-out); a poll in flight is ignored when it answers. */
  function clear(): void {
    epoch++
    inflight = false
    info.value = null
    error.value = null
    history.value = []
    lastPoll.value = null
    forbidden.value = false
    retryAt.value = null
    if (timer) {
      clearTimeout(timer)
      timer = null
    }
  }

  return { info, error, forbidden, retryAt, history, lastPoll, poll, acquire, clear, workersByModel }
})
