import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { buildWorker } from "../support/wrangler.js";

const GOAL_GZIP_KIB = 400;

/** Bundles the Worker as `wrangler deploy` would (offline, nothing uploaded) and reports its size. */
export async function benchEdge(): Promise<Record<string, number>> {
  const outdir = mkdtempSync(join(tmpdir(), "or-edge-bench-"));
  try {
    const started = performance.now();
    const bundle = await buildWorker(outdir);
    const buildMs = performance.now() - started;
    const code = readFileSync(bundle.script);
    const rawKiB = code.byteLength / 1024;
    const gzipKiB = gzipSync(code, { level: 9 }).byteLength / 1024;
    const verdict = gzipKiB <= GOAL_GZIP_KIB ? "within" : "OVER";
    console.log(
      `edge bundle: ${rawKiB.toFixed(1)} KiB raw, ${gzipKiB.toFixed(1)} KiB gzip (${verdict} the ${GOAL_GZIP_KIB} KiB goal); built in ${buildMs.toFixed(0)} ms`,
    );
    return {
      edge_bundle_raw_kib: Number(rawKiB.toFixed(1)),
      edge_bundle_gzip_kib: Number(gzipKiB.toFixed(1)),
      edge_build_ms: Math.round(buildMs),
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchEdge();
