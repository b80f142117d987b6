import { defineConfig } from 'vite';

// Preact through the automatic JSX runtime; the built files go into the producer's own dist/
// (apps/producer/dist/dashboard/, content-hashed assets), so they ship inside @jobline/producer,
// which serves them under /ui/ (apps/producer/src/ui.ts). No plugins: one dependency, Preact.
export default defineConfig({
  base: '/ui/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../producer/dist/dashboard',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
    chunkSizeWarningLimit: 100,
  },
  server: { proxy: { '/v1': 'http://127.0.0.1:8080' } },
});
