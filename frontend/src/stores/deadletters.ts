// The dead letters the key may see (its tenant's; an operator's: every
// tenant's), a page at a time with filters by job and model, and what can
// be done with one: show it with its payload, redrive it into its job, or
// purge it. A gateway without the dead-letter API (404 on the list) is
// said as such, not as an error.
import { defineStore } from 'pinia'
import { reactive, ref, shallowRef } from 'vue'
import { ApiError } from '@/api/http'
import {
  getDeadLetter,
  listDeadLetters,
  purgeDeadLetter,
  redriveDeadLetter,
  type DeadLetter,
  type DeadLetterDetail,
} from '@/api/deadletters'
import { errorText } from '@/lib/errors'

export const DLQ_PAGE = 50

export interface DeadLetterFilter {
  job?: string
  model?: string
}

export const useDeadLettersStore = defineStore('deadletters', () => {
  const letters = shallowRef<DeadLetter[]>([])
  const nextCursor = ref<string | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)
  /** The gateway does not offer the dead-letter API. */
  const unavailable = ref(false)
  const filter = ref<DeadLetterFilter>({})
  /** Letters opened, with their payload. */
  const details = reactive<Record<string, DeadLetterDetail>>({})
  /** Letters with an action under way: redrive or purge. */
  const busy = reactive<Record<string, 'redrive' | 'purge' | 'show'>>({})
  /** The outcome of the last action, in words. */
  const notice = ref<string | null>(null)
  let epoch = 0

  async function page(cursor?: string): Promise<void> {
    const my = ++epoch
    loading.value = true
    try {
      const r = await listDeadLetters({ limit: DLQ_PAGE, cursor, ...filter.value })
      if (my !== epoch) return
      letters.value = cursor ? [...letters.value, ...r.letters] : r.letters
      nextCursor.value = r.next_cursor ?? null
      error.value = null
      unavailable.value = false
    } catch (e) {
      if (my !== epoch) return
      if (e instanceof ApiError && e.status === 404 && (e.code === 'not_found' || e.code === 'http_404')) unavailable.value = true
      else error.value = errorText(e)
    } finally {
      if (my === epoch) loading.value = false
    }
  }

  /** The first page (with f: of a new filter). */
  function load(f?: DeadLetterFilter): Promise<void> {
    if (f) filter.value = { job: f.job?.trim() || undefined, model: f.model?.trim() || undefined }
    return page()
  }

  function more(): Promise<void> {
    return nextCursor.value === null || loading.value ? Promise.resolve() : page(nextCursor.value)
  }

  async function act(l: DeadLetter, kind: 'redrive' | 'purge' | 'show', run: () => Promise<string | null>): Promise<void> {
    busy[l.id] = kind
    notice.value = null
    error.value = null
    try {
      notice.value = await run()
    } catch (e) {
      // Gone already (redriven or purged elsewhere): off the list, said in words.
      if (e instanceof ApiError && e.status === 404 && kind !== 'show') drop(l.id)
      error.value = errorText(e)
    } finally {
      delete busy[l.id]
    }
  }

  function drop(id: string): void {
    letters.value = letters.value.filter((x) => x.id !== id)
    delete details[id]
  }

  const items = (l: DeadLetter) => `${l.count} item${l.count === 1 ? '' : 's'} (${l.start}–${l.start + l.count - 1})`

  function show(l: DeadLetter): Promise<void> {
    return act(l, 'show', async () => {
      details[l.id] = await getDeadLetter(l.id)
      return null
    })
  }

  function redrive(l: DeadLetter): Promise<void> {
    return act(l, 'redrive', async () => {
      await redriveDeadLetter(l.id)
      drop(l.id)
      return `Redriven: ${items(l)} of job ${l.job} are back in its queue.`
    })
  }

  function purge(l: DeadLetter): Promise<void> {
    return act(l, 'purge', async () => {
      await purgeDeadLetter(l.id)
      drop(l.id)
      return `Purged: ${items(l)} of job ${l.job} are gone.`
    })
  }

  function clear(): void {
    epoch++
    letters.value = []
    nextCursor.value = null
    filter.value = {}
    error.value = null
    notice.value = null
    unavailable.value = false
    loading.value = false
    for (const k of Object.keys(details)) delete details[k]
  }

  return { letters, nextCursor, loading, error, unavailable, filter, details, busy, notice, load, more, show, redrive, purge, clear }
})
