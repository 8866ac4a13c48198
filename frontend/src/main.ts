// Global styles first (tokens, base, layout, then shared primitives), so that
// every component's scoped styles come after them in the cascade.
import './assets/main.css'
import './assets/primitives.css'
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import router from './router'
import { useSessionStore } from './stores/session'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(router)
// Credentials first: the HTTP client asks the session for the key on every request.
void useSessionStore(pinia).init()
app.mount('#app')
