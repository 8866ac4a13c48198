import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue'

/**
 * The rendered width of an element in CSS pixels, kept current while it is
 * mounted: charts draw in real pixels, so their text stays 12 px on a phone
 * instead of shrinking with a fixed viewBox. `fallback` where it cannot be
 * measured (no layout, e.g. unit tests).
 */
export function useWidth(el: Ref<HTMLElement | null>, fallback: number): Ref<number> {
  const width = ref(fallback)
  let ro: ResizeObserver | null = null
  const measure = () => {
    const w = el.value?.clientWidth ?? 0
    if (w > 0) width.value = Math.round(w)
  }
  onMounted(() => {
    measure()
    if (typeof ResizeObserver !== 'undefined' && el.value) {
      ro = new ResizeObserver(measure)
      ro.observe(el.value)
    }
  })
  onBeforeUnmount(() => ro?.disconnect())
  return width
}
