import { onBeforeUnmount, ref, type Ref } from 'vue'

/** The current time, refreshed every `ms` while the component is mounted. */
export function useNow(ms = 1000): Ref<number> {
  const now = ref(Date.now())
  const t = setInterval(() => (now.value = Date.now()), ms)
  onBeforeUnmount(() => clearInterval(t))
  return now
}
