import { onBeforeUnmount } from 'vue'

/** A debounced call of fn; pending calls are dropped when the component unmounts. */
export function useDebouncedFn<A extends unknown[]>(fn: (...args: A) => void, ms: number) {
  let timer: ReturnType<typeof setTimeout> | null = null
  const cancel = () => {
    if (timer) clearTimeout(timer)
    timer = null
  }
  const call = (...args: A) => {
    cancel()
    timer = setTimeout(() => {
      timer = null
      fn(...args)
    }, ms)
  }
  onBeforeUnmount(cancel)
  return { call, cancel }
}
