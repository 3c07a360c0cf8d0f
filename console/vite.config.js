import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// Served by the Sanic app under /console/; `npm run dev` proxies the API to a local server on :8000.
export default defineConfig({
  base: '/console/',
  plugins: [vue()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000 },
  server: { proxy: { '/api': 'http://127.0.0.1:8000' } },
})
