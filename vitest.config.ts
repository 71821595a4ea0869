import { defineConfig } from "vitest/config";

const shared = { globalSetup: ["test/support/global-setup.ts"], testTimeout: 20_000, hookTimeout: 30_000 };

export default defineConfig({
  test: {
    projects: [
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"] } },
      { test: { name: "http", include: ["test/http/**/*.test.ts"], ...shared } },
      { test: { name: "integration", include: ["test/integration/**/*.test.ts"], ...shared } },
      {
        test: {
          name: "edge",
          include: ["test/edge/**/*.test.ts"],
          ...shared,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "fault",
          include: ["test/fault/**/*.test.ts"],
          ...shared,
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          ...shared,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
