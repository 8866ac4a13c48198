import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The gateway (Go) serves the API on :8000 under /v1 and, in production, this
// build from frontend/dist. In development Vite serves the UI and proxies /v1
// (HTTP and WebSocket) to the gateway.
const gateway = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8000'

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: {
      '@': fileURLToPath(new URL('./src', import.meta.url)),
    },
  },
  server: {
    proxy: {
      '/v1': { target: gateway, ws: true, changeOrigin: false },
    },
  },
  preview: {
    proxy: {
      '/v1': { target: gateway, ws: true, changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // No inline <script>/<style>: the gateway serves the UI under CSP default-src 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  worker: {
    format: 'es',
  },
})
