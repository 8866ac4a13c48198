// window.__bi: a small debug/test hook, installed in every build. It is
// harmless: it only reads client state or drops the WebSocket, which the
// client then replaces and resumes exactly as after a network failure (a user
// can cause the same by toggling the network). The e2e tests use it.
import { useConnectionStore } from '@/stores/connection'
import { useJobsStore } from '@/stores/jobs'
import { useSessionStore } from '@/stores/session'

export interface DebugHook {
  /** Drop the WebSocket as if the network failed; the client reconnects and resumes. */
  dropSocket(): void
  /** Connection snapshot (state, attempt, reconnects, tenant, ...). */
  socket(): unknown
  /** Session status, tenant and role (never the key). */
  session(): { status: string; tenant: string | null; role: string | null }
  /** Followed jobs. */
  subscriptions(): unknown
  /** Item indices of a job's results in the order they were applied. */
  jobIndexes(id: string): number[]
  /** Counters of a job's result store. */
  jobStats(id: string): { total: number; received: number; duplicates: number; staleFrames: number; lastSeq: number }
}

declare global {
  interface Window {
    __bi?: DebugHook
  }
}

export function installDebugHook(): void {
  const conn = useConnectionStore()
  const jobs = useJobsStore()
  const session = useSessionStore()
  window.__bi = {
    dropSocket: () => conn.client().dropSocket(),
    socket: () => ({ ...conn.snap }),
    session: () => ({ status: session.status, tenant: session.tenant, role: session.role }),
    subscriptions: () => conn.client().subscriptions(),
    jobIndexes: (id) => [...jobs.resultsFor(id).arrival],
    jobStats: (id) => {
      const r = jobs.resultsFor(id)
      return { total: r.total, received: r.received, duplicates: r.duplicates, staleFrames: r.staleFrames, lastSeq: r.lastSeq }
    },
  }
}
