import { defineConfig } from "vitest/config";

// The browser suite runs in Node (not workerd): it starts `wrangler dev` once (globalSetup) and
// drives Debian's Chromium with playwright-core against it. Files run one at a time: the machine
// has two cores, and Chromium plus workerd already use both.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    globalSetup: ["./test/browser/global-setup.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
