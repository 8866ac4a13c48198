import { defineStore } from 'pinia'
import { computed, markRaw, reactive, ref } from 'vue'
import * as api from '@/api/http'
import { TERMINAL_STATES, type JobStatus } from '@/api/types'
import { errorText } from '@/lib/errors'
import { useConnectionStore } from './connection'
import { JobResults } from './jobResults'

/** Result sets kept in memory (a 100k-row job holds tens of MB). */
export const MAX_CACHED_RESULTS = 4

export function isTerminal(s: Pick<JobStatus, 'state'>): boolean {
  return TERMINAL_STATES.includes(s.state)
}

/** Fraction of items finished (done + failed) / total. */
export function progressOf(s: Pick<JobStatus, 'done' | 'failed' | 'total'>): number {
  return s.total > 0 ? (s.done + s.failed) / s.total : 0
}

function ts(s: string | undefined): number {
  const t = s ? Date.parse(s) : NaN
  return Number.isNaN(t) ? 0 : t
}

/** Whether b is at least as recent as a (statuses may arrive out of order: HTTP vs WebSocket). */
function newer(a: JobStatus, b: JobStatus): boolean {
  if (isTerminal(a) && !isTerminal(b)) return false
  const fa = a.done + a.failed
  const fb = b.done + b.failed
  if (fb !== fa) return fb > fa
  return ts(b.updated_at) >= ts(a.updated_at)
}

export const useJobsStore = defineStore('jobs', () => {
  const byId = reactive<Record<string, JobStatus>>({})
  /** Ids from the last GET /v1/jobs, most recent first, plus jobs submitted here. */
  const order = ref<string[]>([])
  const listLoading = ref(false)
  const listError = ref<string | null>(null)
  const subscriptionErrors = reactive<Record<string, string>>({})
  const results = new Map<string, JobResults>()
  /**
   * Bumped by clear() (sign-out): answers to requests sent before it belong
   * to the previous key's tenant and are dropped.
   */
  let epoch = 0

  function applyStatus(s: JobStatus): void {
    const cur = byId[s.id]
    if (!cur || newer(cur, s)) byId[s.id] = s
    results.get(s.id)?.setTotal(s.total)
  }

  async function fetchList(limit = 50): Promise<void> {
    listLoading.value = true
    const my = epoch
    try {
      const r = await api.listJobs(limit)
      if (my !== epoch) return
      for (const j of r.jobs) applyStatus(j)
      const ids = r.jobs.map((j) => j.id)
      // Keep jobs submitted from this page that the list does not show yet.
      const extra = order.value.filter((id) => !ids.includes(id) && byId[id] && !isTerminal(byId[id]!))
      order.value = [...extra, ...ids]
      listError.value = null
    } catch (e) {
      if (my === epoch) listError.value = errorText(e)
    } finally {
      if (my === epoch) listLoading.value = false
    }
  }

  async function fetchJob(id: string): Promise<JobStatus> {
    const my = epoch
    const s = await api.getJob(id)
    if (my !== epoch) return s
    applyStatus(s)
    return byId[id] ?? s
  }

  async function cancel(id: string): Promise<JobStatus> {
    const my = epoch
    const s = await api.cancelJob(id)
    if (my === epoch) byId[id] = s
    return s
  }

  async function submit(body: Parameters<typeof api.submitJob>[0], idempotencyKey?: string): Promise<JobStatus> {
    const my = epoch
    const r = await api.submitJob(body, idempotencyKey)
    if (my !== epoch) return r.job
    applyStatus(r.job)
    if (!order.value.includes(r.job.id)) order.value = [r.job.id, ...order.value]
    return r.job
  }

  /** Jobs whose results are being followed (they are never evicted). */
  const resultFollowers = new Map<string, number>()

  function resultsFor(id: string): JobResults {
    let r = results.get(id)
    if (!r) {
      r = markRaw(new JobResults(id))
      const s = byId[id]
      if (s) r.setTotal(s.total)
      results.set(id, r)
      evict()
    }
    return r
  }

  /** Keeps the results of at most MAX_CACHED_RESULTS jobs (oldest unfollowed ones go first). */
  function evict(): void {
    for (const id of results.keys()) {
      if (results.size <= MAX_CACHED_RESULTS) return
      if (resultFollowers.get(id)) continue
      results.delete(id)
      // Its results are gone: a later follow must replay from the start.
      useConnectionStore().client().forget(id)
    }
  }

  /**
   * Fallback while the WebSocket is down: loads the finished results over
   * HTTP (GET /v1/jobs/{id}/results), page by page.
   */
  async function loadResultsOverHttp(id: string, pageSize = 10_000): Promise<void> {
    const res = resultsFor(id)
    let offset = 0
    for (;;) {
      const page = await api.getResults(id, offset, pageSize)
      res.applyHttpPage(page.items)
      if (page.next_offset === null || page.next_offset === undefined || page.next_offset <= offset) break
      offset = page.next_offset
    }
    res.flush()
  }

  /**
   * Follows a job over the WebSocket: progress always, results when asked.
   * Returns the function that stops following.
   */
  function follow(id: string, opts: { results?: boolean } = {}): () => void {
    const client = useConnectionStore().client()
    if (opts.results) resultFollowers.set(id, (resultFollowers.get(id) ?? 0) + 1)
    const res = opts.results ? resultsFor(id) : null
    const stop = client.subscribe(id, {
      results: !!opts.results,
      onProgress: (s) => {
        delete subscriptionErrors[id]
        applyStatus(s)
      },
      onResults: (m) => {
        res?.applyFrame(m.seq, m.items)
      },
      onEnd: (m) => {
        applyStatus(m.status)
        if (res) {
          res.ended = true
          res.flush()
        }
      },
      onError: (m) => {
        subscriptionErrors[id] = `${m.code}: ${m.message}`
      },
    })
    let stopped = false
    return () => {
      if (stopped) return
      stopped = true
      stop()
      if (opts.results) {
        const n = (resultFollowers.get(id) ?? 1) - 1
        if (n > 0) resultFollowers.set(id, n)
        else resultFollowers.delete(id)
      }
    }
  }

  const list = computed(() => order.value.map((id) => byId[id]).filter((j): j is JobStatus => !!j))

  /** Forgets every job and result (sign-out); requests still in flight are ignored when they answer. */
  function clear(): void {
    epoch++
    for (const id of Object.keys(byId)) delete byId[id]
    for (const id of Object.keys(subscriptionErrors)) delete subscriptionErrors[id]
    order.value = []
    listError.value = null
    listLoading.value = false
    results.clear()
    resultFollowers.clear()
  }

  return {
    byId,
    order,
    list,
    listLoading,
    listError,
    subscriptionErrors,
    applyStatus,
    fetchList,
    fetchJob,
    cancel,
    submit,
    resultsFor,
    loadResultsOverHttp,
    follow,
    clear,
  }
})
