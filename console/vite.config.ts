import { resolve } from "node:path";
import { defineConfig } from "vite";

/** Builds the ops console into dist/console, served by the service at /console (src/http/routes/console.ts). */
export default defineConfig({
  root: import.meta.dirname,
  base: "/console/",
  publicDir: false,
  build: {
    outDir: resolve(import.meta.dirname, "../dist/console"),
    emptyOutDir: true,
    // No inline script: the page's CSP is `script-src 'self'`.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 900,
    target: "es2022",
  },
});
