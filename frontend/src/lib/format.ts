// Small display formatters.

export function fmtInt(n: number | undefined | null): string {
  return n === undefined || n === null || !Number.isFinite(n) ? '—' : Math.round(n).toLocaleString('en-US')
}

export function fmtRate(perSec: number | undefined | null): string {
  if (perSec === undefined || perSec === null || !Number.isFinite(perSec)) return '—'
  if (perSec >= 100) return `${Math.round(perSec).toLocaleString('en-US')}/s`
  if (perSec >= 10) return `${perSec.toFixed(1)}/s`
  return `${perSec.toFixed(2)}/s`
}

export function fmtDuration(ms: number | undefined | null): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms) || ms < 0) return '—'
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`
  const m = Math.floor(s / 60)
  const rs = Math.round(s % 60)
  if (m < 60) return `${m} min ${rs} s`
  const h = Math.floor(m / 60)
  return `${h} h ${m % 60} min`
}

export function fmtPercent(frac: number): string {
  if (!Number.isFinite(frac)) return '—'
  const p = Math.max(0, Math.min(1, frac)) * 100
  return p === 100 || p === 0 ? `${p} %` : `${p.toFixed(1)} %`
}

export function fmtTime(iso: string | undefined): string {
  if (!iso) return '—'
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleString()
}

export function fmtScore(s: number | undefined): string {
  return s === undefined || !Number.isFinite(s) ? '—' : s.toFixed(3)
}
