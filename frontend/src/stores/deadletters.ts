// The dead letters the key may see (its tenant's; an operator's: every
// tenant's, and with kind "sync" the synchronous requests'), a page at a
// time, oldest first, with filters by job, model and (operators) tenant;
// and what can be done with one: show its input a page at a time, redrive
// it into its job, purge it, or purge every letter of a job. A gateway
// without the dead-letter API (404 on the list) is said as such, not as an
// error.
import { defineStore } from 'pinia'
import { reactive, ref, shallowRef } from 'vue'
import { ApiError } from '@/api/http'
import { getDeadLetter, listDeadLetters, purgeDeadLetter, purgeJobDeadLetters, redriveDeadLetter } from '@/api/deadletters'
import type { DeadLetter, DeadLetterItem, DeadLetterKind } from '@/api/types'
import { errorText } from '@/lib/errors'
import { fmtInt } from '@/lib/format'

/** Letters per page of the list. */
export const DLQ_PAGE = 50
/** Payload items per page of a letter's input. */
export const ITEMS_PAGE = 20

export interface DeadLetterFilter {
  job?: string
  /** name, or name:version */
  model?: string
  /** Operators: one tenant's letters. */
  tenant?: string
  /** Operators: "sync" for the synchronous requests' letters (batch by default). */
  kind?: DeadLetterKind
}

/** A letter's input as far as it was read. */
export interface OpenedLetter {
  items: DeadLetterItem[]
  /** The offset of the next page of items; null: all read. */
  nextOffset: number | null
}

type Action = 'redrive' | 'purge' | 'show'

function clean(f: DeadLetterFilter): DeadLetterFilter {
  const t = (s?: string) => s?.trim() || undefined
  return { job: t(f.job), model: t(f.model), tenant: t(f.tenant), kind: f.kind === 'sync' ? 'sync' : undefined }
}

/** "256 items (256–511)" */
export function itemsText(l: Pick<DeadLetter, 'count' | 'start'>): string {
  return `${fmtInt(l.count)} item${l.count === 1 ? '' : 's'} (${fmtInt(l.start)}–${fmtInt(l.start + l.count - 1)})`
}

export const useDeadLettersStore = defineStore('deadletters', () => {
  const letters = shallowRef<DeadLetter[]>([])
  const nextCursor = ref<string | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)
  /** The gateway does not offer the dead-letter API. */
  const unavailable = ref(false)
  const filter = ref<DeadLetterFilter>({})
  /** Letters opened, with the part of their input read so far. */
  const details = reactive<Record<string, OpenedLetter>>({})
  /** Letters with an action under way. */
  const busy = reactive<Record<string, Action>>({})
  /** A job's letters being purged. */
  const purgingJob = ref<string | null>(null)
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
    if (f) filter.value = clean(f)
    return page()
  }

  function more(): Promise<void> {
    return nextCursor.value === null || loading.value ? Promise.resolve() : page(nextCursor.value)
  }

  async function act(l: DeadLetter, kind: Action, run: () => Promise<string | null>): Promise<void> {
    busy[l.id] = kind
    notice.value = null
    error.value = null
    try {
      notice.value = await run()
    } catch (e) {
      // Gone already (redriven or purged elsewhere): off the list, said in words.
      if (e instanceof ApiError && e.status === 404) drop(l.id)
      error.value = errorText(e)
    } finally {
      delete busy[l.id]
    }
  }

  function drop(id: string): void {
    letters.value = letters.value.filter((x) => x.id !== id)
    delete details[id]
  }

  /** Reads the first page of the letter's input. */
  function show(l: DeadLetter): Promise<void> {
    return act(l, 'show', async () => {
      const d = await getDeadLetter(l.id, { limit: ITEMS_PAGE })
      details[l.id] = { items: d.items, nextOffset: d.next_offset }
      return null
    })
  }

  /** Reads the next page of an opened letter's input. */
  function showMore(l: DeadLetter): Promise<void> {
    const open = details[l.id]
    if (!open || open.nextOffset === null || busy[l.id]) return Promise.resolve()
    return act(l, 'show', async () => {
      const d = await getDeadLetter(l.id, { offset: open.nextOffset!, limit: ITEMS_PAGE })
      details[l.id] = { items: [...open.items, ...d.items], nextOffset: d.next_offset }
      return null
    })
  }

  function hide(l: DeadLetter): void {
    delete details[l.id]
  }

  function redrive(l: DeadLetter): Promise<void> {
    return act(l, 'redrive', async () => {
      const r = await redriveDeadLetter(l.id)
      drop(l.id)
      return `Redriven: ${itemsText(l)} of job ${r.job.id} are back in its queue (each lands in it once).`
    })
  }

  function purge(l: DeadLetter): Promise<void> {
    return act(l, 'purge', async () => {
      await purgeDeadLetter(l.id)
      drop(l.id)
      return `Purged: ${itemsText(l)} of job ${l.job} stay failed; their input is gone.`
    })
  }

  /** Purges every letter of a job the key may see, then lists again. */
  async function purgeJob(job: string): Promise<void> {
    purgingJob.value = job
    notice.value = null
    error.value = null
    try {
      const r = await purgeJobDeadLetters(job)
      notice.value = `Purged ${fmtInt(r.purged)} dead letter${r.purged === 1 ? '' : 's'} of job ${job}.`
      for (const id of Object.keys(details)) delete details[id]
      await page()
    } catch (e) {
      error.value = errorText(e)
    } finally {
      purgingJob.value = null
    }
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
    purgingJob.value = null
    for (const k of Object.keys(details)) delete details[k]
  }

  return {
    letters,
    nextCursor,
    loading,
    error,
    unavailable,
    filter,
    details,
    busy,
    purgingJob,
    notice,
    load,
    more,
    show,
    showMore,
    hide,
    redrive,
    purge,
    purgeJob,
    clear,
  }
})
