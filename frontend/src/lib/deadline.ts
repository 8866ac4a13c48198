// A job's optional deadline as the Batch page offers it: none, a duration
// from the submission (sent as a Go duration: the gateway counts it from
// when it takes the job), or a time picked in the browser's time zone (sent
// as RFC 3339). Pure; `now` is passed in.

export const DEADLINE_CHOICES = [
  { value: '', label: 'No deadline' },
  { value: '15m', label: 'within 15 minutes' },
  { value: '1h', label: 'within 1 hour' },
  { value: '6h', label: 'within 6 hours' },
  { value: '24h', label: 'within 24 hours' },
  { value: 'at', label: 'by a time…' },
] as const

export type DeadlineChoice = (typeof DEADLINE_CHOICES)[number]['value']

/** The least time ahead a picked deadline may be. */
export const MIN_AHEAD_MS = 60_000

export type DeadlineParam = { ok: true; value?: string } | { ok: false; error: string }

/**
 * The `deadline` parameter for a choice; `at` is the value of a
 * datetime-local input ("2030-01-02T03:04"), read in the local time zone.
 */
export function deadlineParam(choice: DeadlineChoice, at: string, now: number): DeadlineParam {
  if (choice !== 'at') return { ok: true, value: choice || undefined }
  if (!at) return { ok: false, error: 'Pick the date and time by which the items must have started.' }
  const t = new Date(at).getTime()
  if (Number.isNaN(t)) return { ok: false, error: 'This is not a date and time.' }
  if (t < now + MIN_AHEAD_MS) return { ok: false, error: 'The deadline must be at least a minute from now.' }
  return { ok: true, value: new Date(t).toISOString() }
}

/** A datetime-local value (local time, minutes) for a time. */
export function localInputValue(t: number): string {
  const d = new Date(t)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`
}
