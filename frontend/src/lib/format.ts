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

/** Compact axis labels: 950, 1.2k, 10k, 2.5M. */
export function fmtCompact(n: number): string {
  if (!Number.isFinite(n)) return '—'
  const a = Math.abs(n)
  const trim = (v: number) => String(Number(v.toFixed(v < 10 ? 1 : 0)))
  if (a >= 1e9) return `${trim(n / 1e9)}G`
  if (a >= 1e6) return `${trim(n / 1e6)}M`
  if (a >= 1e4) return `${trim(n / 1e3)}k`
  if (a >= 100 || Number.isInteger(n)) return Math.round(n).toLocaleString('en-US')
  return n.toFixed(a >= 10 ? 1 : 2)
}

/** Bytes for people: 980 B, 12.3 KB, 64 MB (powers of 1024, as the limits are set). */
export function fmtBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—'
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return `${u === 0 ? v : Number(v.toFixed(v < 10 ? 1 : 0))} ${units[u]}`
}
