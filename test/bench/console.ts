import { readdirSync, readFileSync, statSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gzipSync } from "node:zlib";
import { serve } from "@hono/node-server";
import { chromium } from "playwright-core";
import { silentLogger, systemClock } from "../../src/core/ports.js";
import { createApp } from "../../src/http/app.js";
import { consoleEndpoints, DEFAULT_CONSOLE_DIR } from "../../src/http/routes/console.js";
import type { RouterServices } from "../../src/http/services.js";

const RUNS = 7;

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

/**
 * The console's bundle size (raw and gzip, all files and JS alone) and its first load on
 * localhost: a cold browser context each run, from navigation to the sign-in form being usable.
 * Needs `dist/console` (npx vite build console) and /usr/bin/chromium; no Redis (assets only).
 */
export async function benchConsole(): Promise<Record<string, number>> {
  const files = filesUnder(DEFAULT_CONSOLE_DIR);
  let raw = 0;
  let gzip = 0;
  let jsRaw = 0;
  let jsGzip = 0;
  let entryGzip = 0;
  for (const f of files) {
    const body = readFileSync(f);
    const gz = gzipSync(body).byteLength;
    raw += body.byteLength;
    gzip += gz;
    if (f.endsWith(".js")) {
      jsRaw += body.byteLength;
      jsGzip += gz;
      if (/[\\/]index-[^\\/]+\.js$/.test(f)) entryGzip += gz;
    }
  }

  const app = createApp<RouterServices>(
    {
      config: { apiTokens: [], publicKeys: [], adminTokens: ["x"], corsOrigins: [], rateLimitPerMinute: 0 },
      clock: systemClock,
      logger: silentLogger,
      services: {
        acquire: () => {
          throw new Error("the console's routes need no services");
        },
      },
      readiness: async () => ({ ready: true, checks: {} }),
    },
    consoleEndpoints(),
  );
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/console`;
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-background-networking"],
  });
  const usable: number[] = [];
  const loadEvent: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const started = performance.now();
      await page.goto(url);
      await page.locator("#token").waitFor();
      usable.push(performance.now() - started);
      loadEvent.push(
        await page.evaluate(() => {
          const nav = performance.getEntriesByType("navigation")[0] as
            | PerformanceNavigationTiming
            | undefined;
          return nav ? nav.loadEventEnd - nav.startTime : Number.NaN;
        }),
      );
      await context.close();
    }
  } finally {
    await browser.close();
    await new Promise<void>((r) => server.close(() => r()));
  }
  return {
    console_bundle_raw_bytes: raw,
    console_bundle_gzip_bytes: gzip,
    console_js_raw_bytes: jsRaw,
    console_js_gzip_bytes: jsGzip,
    // What the sign-in page loads; the rules editor and the charts are split into their pages.
    console_entry_js_gzip_bytes: entryGzip,
    console_first_load_usable_ms_p50: median(usable.slice(1)),
    console_first_load_event_ms_p50: median(loadEvent.slice(1)),
    console_first_load_usable_ms_cold: usable[0] ?? Number.NaN,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await benchConsole();
  for (const [key, value] of Object.entries(results)) console.log(`${key.padEnd(40)} ${value.toFixed(1)}`);
}
