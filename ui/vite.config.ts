import { defineConfig } from "vitest/config";

// The UI is bundled into the app binary and loaded from it: no dev server, no network.
export default defineConfig({
  clearScreen: false,
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "safari16",
    sourcemap: false,
    reportCompressedSize: true,
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts"],
  },
});
