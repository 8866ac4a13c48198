// What happened to a job, in words: the state as a person reads it
// ("completed with failures", "cancelled: 1,200 done, 800 skipped", "failed:
// results store full"), its tone, and the figures that count only the items
// that ran (skipped items are neither failures nor work done).
import { TERMINAL_STATES, type JobStatus } from '@/api/types'
import { fmtInt } from './format'

export type JobStateKey =
  | 'queued'
  | 'running'
  | 'completed'
  | 'completed_with_failures'
  | 'cancelled'
  | 'failed'
  | 'expired'
  | 'deadline_exceeded'

export type Tone = 'muted' | 'accent' | 'ok' | 'warn' | 'error'

export interface JobView {
  key: JobStateKey
  /** Short label: "completed with failures". */
  label: string
  /** One sentence with the counts: "cancelled: 1,200 done, 800 skipped". */
  summary: string
  tone: Tone
  finished: boolean
  /** Items that ran (done + failed). */
  processed: number
  skipped: number
  /** Items neither run nor skipped yet. */
  pending: number
}

type JobFigures = Pick<JobStatus, 'state' | 'done' | 'failed' | 'total'> & Partial<Pick<JobStatus, 'skipped' | 'error' | 'queue' | 'ingesting' | 'read'>>

export function isTerminal(s: Pick<JobStatus, 'state'>): boolean {
  return TERMINAL_STATES.includes(s.state)
}

export function skippedOf(s: Partial<Pick<JobStatus, 'skipped'>>): number {
  return s.skipped !== undefined && Number.isFinite(s.skipped) && s.skipped > 0 ? s.skipped : 0
}

/** Fraction of items that ran (done + failed) of the total; skipped items are not progress. */
export function progressOf(s: Pick<JobStatus, 'done' | 'failed' | 'total'>): number {
  return s.total > 0 ? (s.done + s.failed) / s.total : 0
}

function failures(n: number): string {
  return `${fmtInt(n)} failed`
}

/** "~3 s", "~2 min", "~1 h 5 min": a wait, rounded. */
export function aboutText(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000))
  if (s < 90) return `~${s} s`
  const m = Math.round(s / 60)
  if (m < 90) return `~${m} min`
  return `~${Math.floor(m / 60)} h ${m % 60} min`
}

/** Where a queued job stands: "12,800 items ahead, starts in ~3 s" (now: the time to count from). */
export function queueText(q: NonNullable<JobStatus['queue']>, now: number): string {
  const ahead = q.items_ahead > 0 ? `${fmtInt(q.items_ahead)} item${q.items_ahead === 1 ? '' : 's'} ahead` : 'next in line'
  const at = q.estimated_start ? Date.parse(q.estimated_start) : NaN
  if (Number.isNaN(at)) return ahead
  return `${ahead}, ${at - now > 500 ? `starts in ${aboutText(at - now)}` : 'starts any moment'}`
}

/** While a dataset is read: "12,345 items read so far". */
function readText(s: JobFigures): string {
  return `reading the dataset: ${fmtInt(s.read ?? 0)} items read so far`
}

/** The job's state in words; `now` places an estimated start. */
export function describeJob(s: JobFigures, now = Date.now()): JobView {
  const skipped = skippedOf(s)
  const processed = s.done + s.failed
  const base = { processed, skipped, pending: Math.max(0, s.total - processed - skipped), finished: isTerminal(s) }
  const counts = `${fmtInt(s.done)} done${s.failed ? `, ${failures(s.failed)}` : ''}`
  switch (s.state) {
    case 'queued': {
      const where = s.queue ? queueText(s.queue, now) : s.ingesting ? '' : `${fmtInt(s.total)} items waiting for a worker`
      const parts = [s.ingesting ? readText(s) : '', where].filter(Boolean).join('; ')
      return { ...base, key: 'queued', label: 'queued', tone: 'muted', summary: `queued — ${parts}` }
    }
    case 'running':
      if (s.ingesting) {
        return { ...base, key: 'running', label: 'running', tone: 'accent', summary: `running: ${counts} (${readText(s)}, of at most ${fmtInt(s.total)})` }
      }
      return { ...base, key: 'running', label: 'running', tone: 'accent', summary: `running: ${counts} of ${fmtInt(s.total)}` }
    case 'completed':
      if (s.failed > 0) {
        return {
          ...base,
          key: 'completed_with_failures',
          label: 'completed with failures',
          tone: 'warn',
          summary: `completed with failures: ${fmtInt(s.done)} done, ${failures(s.failed)}`,
        }
      }
      return { ...base, key: 'completed', label: 'completed', tone: 'ok', summary: `completed: ${fmtInt(s.done)} done` }
    case 'cancelled':
      return { ...base, key: 'cancelled', label: 'cancelled', tone: 'warn', summary: `cancelled: ${counts}, ${fmtInt(skipped)} skipped` }
    case 'deadline_exceeded':
      return {
        ...base,
        key: 'deadline_exceeded',
        label: 'deadline passed',
        tone: 'warn',
        summary: `deadline passed: ${counts}, ${fmtInt(skipped)} skipped`,
      }
    case 'failed':
      return { ...base, key: 'failed', label: 'failed', tone: 'error', summary: `failed: ${s.error || 'no reason given'} (${counts})` }
    case 'expired':
      return {
        ...base,
        key: 'expired',
        label: 'results expired',
        tone: 'muted',
        summary: `results expired: ${counts}; the results were removed after their retention`,
      }
  }
}

/**
 * Items per second of the items that ran: the server's figure, or (for a
 * finished job the server reports 0 for) the processed items over the
 * job's elapsed time.
 */
export function rateOf(s: Pick<JobStatus, 'state' | 'done' | 'failed' | 'items_per_sec' | 'elapsed_ms'>): number | null {
  if (s.items_per_sec > 0) return s.items_per_sec
  const processed = s.done + s.failed
  if (isTerminal(s) && processed > 0 && s.elapsed_ms > 0) return processed / (s.elapsed_ms / 1000)
  return processed > 0 ? null : 0
}
