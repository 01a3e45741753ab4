import { defineConfig } from "vite";

/**
 * A static bundle served at `/` by the local server and by the AWS router. No inline script
 * or style ends up in index.html (the CSP allows only this origin's files), and no source
 * maps ship.
 */
export default defineConfig({
  base: "/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  resolve: { alias: { react: "preact/compat", "react-dom": "preact/compat" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // Never inline assets as data: URLs into scripts; one file per asset keeps the CSP simple.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
