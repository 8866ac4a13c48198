// Starts the app's WebSocket and ties it to the page lifecycle: browser
// online/offline events, tab visibility (skip the backoff wait when the user
// comes back), and teardown. Also installs the debug hook (see README).
import { onBeforeUnmount, onMounted } from 'vue'
import { useConnectionStore } from '@/stores/connection'
import { installDebugHook } from './debugHook'

export function useSocketLifecycle(): void {
  const conn = useConnectionStore()
  const onOnline = () => conn.client().setOffline(false)
  const onOffline = () => conn.client().setOffline(true)
  const onVisible = () => {
    if (document.visibilityState === 'visible') conn.client().connectNow()
  }
  const onPageHide = (e: PageTransitionEvent) => {
    // Leaving for real (not into the back/forward cache): close cleanly.
    if (!e.persisted) conn.stop()
  }
  onMounted(() => {
    if (typeof navigator !== 'undefined' && navigator.onLine === false) conn.client().setOffline(true)
    conn.start()
    window.addEventListener('online', onOnline)
    window.addEventListener('offline', onOffline)
    document.addEventListener('visibilitychange', onVisible)
    window.addEventListener('pagehide', onPageHide)
    installDebugHook()
  })
  onBeforeUnmount(() => {
    window.removeEventListener('online', onOnline)
    window.removeEventListener('offline', onOffline)
    document.removeEventListener('visibilitychange', onVisible)
    window.removeEventListener('pagehide', onPageHide)
    conn.stop()
  })
}
