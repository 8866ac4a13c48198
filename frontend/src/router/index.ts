import { createRouter, createWebHistory } from 'vue-router'
import ModelsView from '@/views/ModelsView.vue'

const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/', redirect: { name: 'models' } },
    { path: '/models', name: 'models', component: ModelsView, meta: { title: 'Models' } },
    { path: '/try/:model?', name: 'try', component: () => import('@/views/TryView.vue'), meta: { title: 'Try' } },
    { path: '/batch/:model?', name: 'batch', component: () => import('@/views/BatchView.vue'), meta: { title: 'Batch' } },
    { path: '/jobs', name: 'jobs', component: () => import('@/views/JobsView.vue'), meta: { title: 'Jobs' } },
    { path: '/jobs/:id', name: 'job', component: () => import('@/views/JobView.vue'), props: true, meta: { title: 'Job' } },
    { path: '/deadletters', name: 'deadletters', component: () => import('@/views/DeadLettersView.vue'), meta: { title: 'Dead letters' } },
    { path: '/cluster', name: 'cluster', component: () => import('@/views/ClusterView.vue'), meta: { title: 'Cluster' } },
    { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('@/views/NotFoundView.vue'), meta: { title: 'Not found' } },
  ],
})

router.afterEach((to) => {
  const t = typeof to.meta.title === 'string' ? to.meta.title : ''
  document.title = t ? `${t} · Batch inference` : 'Batch inference'
})

export default router
