// Client-side export of job results (CSV / NDJSON), built in parts so that
// 100k rows never become one giant string. Every row carries what matches
// it back to the input: the item index, the input's line (NDJSON, CSV) and
// its id (a CSV id column, or an image's file name).
import { isFailure, isSkipped, type ItemResult } from '@/api/types'

/** Where the items came from, by index, when the results do not say (see jobs store InputRefs). */
export interface RowRefs {
  lines?: ArrayLike<number>
  ids?: ArrayLike<string>
}

function csvField(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v
}

function lineOf(r: ItemResult, refs: RowRefs): number | undefined {
  if (r.line !== undefined) return r.line
  const l = refs.lines?.[r.index]
  return l !== undefined && l > 0 ? l : undefined
}

function idOf(r: ItemResult, refs: RowRefs): string | undefined {
  return r.id ?? refs.ids?.[r.index]
}

/** ok, failed or skipped (not run: the job was cancelled or passed its deadline). */
export function statusOf(r: ItemResult): 'ok' | 'failed' | 'skipped' {
  return isSkipped(r) ? 'skipped' : isFailure(r) ? 'failed' : 'ok'
}

/** CSV lines (each ending in \n): header, then one line per result in the given order. */
export function resultsToCsvParts(rows: Iterable<ItemResult>, labels: string[], refs: RowRefs = {}): string[] {
  const probCols = labels.map((l) => csvField(`p_${l}`))
  const parts = [['index', 'line', 'id', 'status', 'label', 'class', 'score', 'error', ...probCols].join(',') + '\n']
  for (const r of rows) {
    const head = [String(r.index), String(lineOf(r, refs) ?? ''), csvField(idOf(r, refs) ?? ''), statusOf(r)]
    if (isFailure(r)) {
      parts.push([...head, '', '', '', csvField(r.error)].join(',') + ','.repeat(labels.length) + '\n')
      continue
    }
    const probs = labels.map((_, i) => (r.probabilities?.[i] !== undefined ? String(r.probabilities[i]) : ''))
    parts.push([...head, csvField(r.label), String(r.class), String(r.score), '', ...probs].join(',') + '\n')
  }
  return parts
}

/** NDJSON: each result as the gateway sent it, with its line and id added when known here. */
export function resultsToNdjsonParts(rows: Iterable<ItemResult>, refs: RowRefs = {}): string[] {
  const parts: string[] = []
  for (const r of rows) {
    const line = lineOf(r, refs)
    const id = idOf(r, refs)
    const out = line === r.line && id === r.id ? r : { ...r, ...(line !== undefined && { line }), ...(id !== undefined && { id }) }
    parts.push(JSON.stringify(out) + '\n')
  }
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
