// The suite's `test`: every page starts signed in with E2E_API_KEY, put into
// sessionStorage before the app loads (page.addInitScript), the way the app
// itself keeps it after a sign-in. Tests of the sign-in itself opt out with
// test.use({ signedIn: false }) and go through the real form (helpers.signIn).
//
// The key is seeded once per page: after a sign-out in the test, reloads and
// navigations stay signed out.
import { test as base } from '@playwright/test'
import { apiKey, KEY_STORAGE } from './helpers'

export { expect } from '@playwright/test'

export const test = base.extend<{ signedIn: boolean }>({
  signedIn: [true, { option: true }],
  page: async ({ page, signedIn, baseURL }, use) => {
    if (signedIn) {
      const origin = new URL(baseURL ?? 'http://127.0.0.1:8000').origin
      await page.addInitScript(
        ({ storage, key, origin }) => {
          if (location.origin !== origin) return
          try {
            const seeded = 'batchinfer.e2e.seeded'
            if (sessionStorage.getItem(seeded)) return
            sessionStorage.setItem(seeded, '1')
            sessionStorage.setItem(storage, key)
          } catch {
            /* no storage on this document */
          }
        },
        { storage: KEY_STORAGE, key: apiKey(), origin },
      )
    }
    await use(page)
  },
})
