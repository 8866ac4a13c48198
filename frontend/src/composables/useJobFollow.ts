import { onBeforeUnmount, watch, type Ref } from 'vue'
import { useJobsStore } from '@/stores/jobs'

/**
 * Follows the jobs in `ids` over the WebSocket while the component is
 * mounted; ids entering or leaving the list are (un)subscribed.
 */
export function useJobFollow(ids: Ref<string[]>, opts: { results?: boolean } = {}): void {
  const jobs = useJobsStore()
  const active = new Map<string, () => void>()
  const sync = (want: string[]) => {
    const set = new Set(want)
    for (const [id, stop] of active) {
      if (!set.has(id)) {
        stop()
        active.delete(id)
      }
    }
    for (const id of set) if (!active.has(id)) active.set(id, jobs.follow(id, opts))
  }
  watch(ids, sync, { immediate: true })
  onBeforeUnmount(() => sync([]))
}
