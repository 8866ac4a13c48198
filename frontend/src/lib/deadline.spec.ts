import { describe, expect, it } from 'vitest'
import { deadlineParam, localInputValue } from './deadline'

const now = new Date(2030, 0, 2, 10, 0).getTime()

describe('deadlineParam', () => {
  it('sends nothing, a duration, or the picked time as RFC 3339', () => {
    expect(deadlineParam('', '', now)).toEqual({ ok: true, value: undefined })
    expect(deadlineParam('1h', '', now)).toEqual({ ok: true, value: '1h' })
    const at = localInputValue(now + 2 * 3600_000)
    expect(deadlineParam('at', at, now)).toEqual({ ok: true, value: new Date(now + 2 * 3600_000).toISOString() })
  })

  it('refuses a missing, unreadable or past time in words', () => {
    expect(deadlineParam('at', '', now)).toMatchObject({ ok: false, error: expect.stringContaining('Pick the date') })
    expect(deadlineParam('at', 'soon', now)).toMatchObject({ ok: false, error: 'This is not a date and time.' })
    expect(deadlineParam('at', localInputValue(now - 60_000), now)).toMatchObject({ ok: false, error: expect.stringContaining('a minute from now') })
  })
})
