// Client-side export of job results (CSV / NDJSON), built in parts so that
// 100k rows never become one giant string.
import { isFailure, type ItemResult } from '@/api/types'

function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v
}

/** CSV lines (each ending in \n): header, then one line per result in the given order. */
export function resultsToCsvParts(rows: Iterable<ItemResult>, labels: string[]): string[] {
  const probCols = labels.map((l) => csvField(`p_${l}`))
  const parts = [['index', 'label', 'class', 'score', 'error', ...probCols].join(',') + '\n']
  for (const r of rows) {
    if (isFailure(r)) {
      parts.push(`${r.index},,,,${csvField(r.error)}${','.repeat(labels.length)}\n`)
      continue
    }
    const probs = labels.map((_, i) => (r.probabilities?.[i] !== undefined ? String(r.probabilities[i]) : ''))
    parts.push([String(r.index), csvField(r.label), String(r.class), String(r.score), '', ...probs].join(',') + '\n')
  }
  return parts
}

export function resultsToNdjsonParts(rows: Iterable<ItemResult>): string[] {
  const parts: string[] = []
  for (const r of rows) parts.push(JSON.stringify(r) + '\n')
  return parts
}

/** Offers a Blob as a download (anchor with `download`; no inline script). */
export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = fileName
  a.rel = 'noopener'
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
