import { defineStore } from 'pinia'
import { computed, markRaw, reactive, ref } from 'vue'
import * as api from '@/api/http'
import { SocketError } from '@/api/ws'
import type { JobStatus } from '@/api/types'
import { isTerminal } from '@/lib/jobState'
import { errorText } from '@/lib/errors'
import { useConnectionStore } from './connection'
import { JobResults } from './jobResults'

/** Result sets kept in memory (a 100k-row job holds tens of MB). */
export const MAX_CACHED_RESULTS = 4

export { isTerminal, progressOf } from '@/lib/jobState'

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

/** Filters of the jobs list (GET /v1/jobs model=, state=). */
export interface JobFilter {
  /** Model name, or name:version. */
  model?: string
  states?: string[]
}

function sameFilter(a: JobFilter, b: JobFilter): boolean {
  return (a.model ?? '') === (b.model ?? '') && (a.states ?? []).join(',') === (b.states ?? []).join(',')
}

function matches(f: JobFilter, j: JobStatus): boolean {
  if (f.model && f.model !== j.model && f.model !== `${j.model}:${j.version}`) return false
  return !f.states?.length || f.states.includes(j.state)
}

/** Where an upload's items came from, kept for the exports of the session that submitted it. */
export interface InputRefs {
  /** Input line of each item (NDJSON, CSV), by item index. */
  lines?: Int32Array
  /** A name per item (e.g. image files), by item index. */
  ids?: string[]
}

export const LIST_PAGE = 50

export const useJobsStore = defineStore('jobs', () => {
  const byId = reactive<Record<string, JobStatus>>({})
  /** Ids of the list's first page (refreshed), as the gateway sorts them: most recent first. */
  const firstPage = ref<string[]>([])
  /** Ids of the pages loaded after it ("Show more"). */
  const morePages = ref<string[]>([])
  /** Jobs submitted here that the list does not show yet. */
  const submitted = ref<string[]>([])
  /** The cursor of the page after those loaded; null: none left. */
  const nextCursor = ref<string | null>(null)
  /** The tenant's jobs (unfiltered lists only). */
  const total = ref<number | null>(null)
  const filter = ref<JobFilter>({})
  const listLoading = ref(false)
  const listError = ref<string | null>(null)
  const subscriptionErrors = reactive<Record<string, string>>({})
  const results = new Map<string, JobResults>()
  const inputRefs = new Map<string, InputRefs>()
  /**
   * Bumped by clear() (sign-out) and by a change of filter: answers to
   * requests sent before it are dropped.
   */
  let epoch = 0

  function applyStatus(s: JobStatus): void {
    const cur = byId[s.id]
    if (!cur || newer(cur, s)) {
      // A status of a queued job without its place (the WebSocket's, sent when the counts change) keeps
      // the place the last GET gave (the scheduler's snapshot, asked again while the job is queued).
      byId[s.id] = s.state === 'queued' && !s.queue && cur?.state === 'queued' && cur.queue ? { ...s, queue: cur.queue } : s
    }
    results.get(s.id)?.setTotal(s.total)
  }

  function query(cursor?: string, limit = LIST_PAGE): api.ListJobsQuery {
    return { limit, cursor, model: filter.value.model, state: filter.value.states?.join(',') }
  }

  /**
   * Loads the first page of the list (with f, a new filter: from scratch);
   * the pages loaded after it are kept.
   */
  async function fetchList(f?: JobFilter): Promise<void> {
    if (f && !sameFilter(f, filter.value)) {
      epoch++
      filter.value = { ...f }
      firstPage.value = []
      morePages.value = []
      nextCursor.value = null
      total.value = null
    }
    listLoading.value = true
    const my = epoch
    try {
      const r = await api.listJobs(query())
      if (my !== epoch) return
      for (const j of r.jobs) applyStatus(j)
      firstPage.value = r.jobs.map((j) => j.id)
      if (morePages.value.length === 0) nextCursor.value = r.next_cursor ?? null
      total.value = r.total ?? null
      submitted.value = submitted.value.filter((id) => !firstPage.value.includes(id) && byId[id] && !isTerminal(byId[id]!))
      listError.value = null
    } catch (e) {
      if (my === epoch) listError.value = errorText(e)
    } finally {
      if (my === epoch) listLoading.value = false
    }
  }

  /** Loads the next page of the list. */
  async function fetchMore(): Promise<void> {
    if (nextCursor.value === null || listLoading.value) return
    listLoading.value = true
    const my = epoch
    try {
      const r = await api.listJobs(query(nextCursor.value))
      if (my !== epoch) return
      for (const j of r.jobs) applyStatus(j)
      morePages.value = [...morePages.value, ...r.jobs.map((j) => j.id)]
      nextCursor.value = r.next_cursor ?? null
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
    return added(await api.submitJob(body, idempotencyKey))
  }

  /** A job just accepted (by any upload transport): shown in the list at once, and its input's lines kept. */
  function added(r: { job: JobStatus }, refs?: InputRefs): JobStatus {
    applyStatus(r.job)
    if (refs) inputRefs.set(r.job.id, refs)
    if (!submitted.value.includes(r.job.id)) submitted.value = [r.job.id, ...submitted.value]
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
        subscriptionErrors[id] = errorText(new SocketError(m.code, m.message, m.retry_after_ms))
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

  /** Ids shown in the list, most recent first. */
  const order = computed(() => {
    const seen = new Set<string>()
    const out: string[] = []
    for (const id of [...submitted.value, ...firstPage.value, ...morePages.value]) {
      if (seen.has(id)) continue
      seen.add(id)
      out.push(id)
    }
    return out
  })
  const list = computed(() =>
    order.value.map((id) => byId[id]).filter((j): j is JobStatus => !!j && matches(filter.value, j)),
  )

  /** Forgets every job and result (sign-out); requests still in flight are ignored when they answer. */
  function clear(): void {
    epoch++
    for (const id of Object.keys(byId)) delete byId[id]
    for (const id of Object.keys(subscriptionErrors)) delete subscriptionErrors[id]
    firstPage.value = []
    morePages.value = []
    submitted.value = []
    nextCursor.value = null
    total.value = null
    filter.value = {}
    inputRefs.clear()
    listError.value = null
    listLoading.value = false
    results.clear()
    resultFollowers.clear()
  }

  return {
    byId,
    order,
    list,
    nextCursor,
    total,
    filter,
    fetchMore,
    added,
    inputRefs,
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
