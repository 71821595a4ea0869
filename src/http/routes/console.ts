import { readFile } from "node:fs/promises";
import { extname, join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import type { Context } from "hono";
import { authenticateAdminBrowser } from "../auth.js";
import type { AppEnv, Endpoint, HttpConfig } from "../context.js";
import { ApiError } from "../errors.js";
import { adminPageDoc } from "../openapi.js";
import type { RouterServices } from "../services.js";

/**
 * The ops console's page and assets, built by Vite into `dist/console`.
 *
 * These routes are public on purpose: the page holds no data. It asks for the admin token
 * once per browser session (kept in sessionStorage, never in a cookie, so no CSRF) and sends
 * it as `Authorization: Bearer …` on its own fetches to `/v1/admin/*`, which check it. The
 * strict CSP below allows nothing but this origin, so the page makes no third-party request.
 */
export const CONSOLE_CSP =
  "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** The default build output, relative to this file (src/http/routes → dist/console). */
export const DEFAULT_CONSOLE_DIR = resolve(import.meta.dirname, "../../../dist/console");

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2",
};

/** One asset name: no slashes or dot-dot, so a request can never leave the build folder. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/;

interface CachedFile {
  readonly body: Uint8Array;
  readonly gzip: Uint8Array | undefined;
  readonly type: string;
}

/** Serves the console from `dir`; files are read once and kept in memory (with a gzip copy). */
/**
 * With `auth`, the page and its assets need the admin token (Bearer, or HTTP Basic with the token
 * as password so a browser can sign in); without it they are public (they hold no data).
 */
export function consoleEndpoints(
  dir: string = DEFAULT_CONSOLE_DIR,
  auth?: HttpConfig,
): Endpoint<RouterServices>[] {
  const cache = new Map<string, Promise<CachedFile | undefined>>();

  const load = (rel: string): Promise<CachedFile | undefined> => {
    let hit = cache.get(rel);
    if (!hit) {
      hit = readFile(join(dir, rel)).then(
        (buf): CachedFile => {
          const body = new Uint8Array(buf);
          const type = TYPES[extname(rel)] ?? "application/octet-stream";
          const compressible = /text|json|svg/.test(type) && body.byteLength > 512;
          return { body, gzip: compressible ? new Uint8Array(gzipSync(body)) : undefined, type };
        },
        () => undefined,
      );
      // A missing file is not cached, so a build made after start is picked up.
      void hit.then((f) => f ?? cache.delete(rel));
      cache.set(rel, hit);
    }
    return hit;
  };

  const send = async (c: Context<AppEnv<RouterServices>>, rel: string, immutable: boolean) => {
    const file = await load(rel);
    if (!file) {
      if (rel === "index.html")
        throw new ApiError("unavailable", "The console is not built; run `npm run build:console`");
      throw new ApiError("not_found", `No console asset ${rel}`);
    }
    const gz = file.gzip && /\bgzip\b/.test(c.req.header("accept-encoding") ?? "");
    const headers: Record<string, string> = {
      "content-type": file.type,
      "content-security-policy": CONSOLE_CSP,
      "x-frame-options": "DENY",
      "referrer-policy": "no-referrer",
      "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
      vary: "accept-encoding",
    };
    if (gz) headers["content-encoding"] = "gzip";
    const body = gz && file.gzip ? file.gzip : file.body;
    return c.body(body as Uint8Array<ArrayBuffer>, 200, headers);
  };

  const gate = (c: Context) => {
    if (auth) authenticateAdminBrowser(c, auth);
  };
  const page: Endpoint<RouterServices>["handler"] = (c) => {
    gate(c);
    return send(c, "index.html", false);
  };
  const pageDoc = adminPageDoc(
    "console",
    "The ops console (HTML; it asks for the admin token and calls /v1/admin/* with it)",
    "the console page",
  );
  return [
    { method: "GET", path: "/console", scopes: [], noServices: true, openapi: pageDoc, handler: page },
    { method: "GET", path: "/console/", scopes: [], noServices: true, handler: page },
    {
      method: "GET",
      path: "/console/assets/:name",
      scopes: [],
      noServices: true,
      handler: (c) => {
        gate(c);
        const name = c.req.param("name") ?? "";
        if (!ASSET_NAME.test(name) || name.includes(".."))
          throw new ApiError("not_found", "No such console asset");
        // Vite puts a content hash in every asset name, so they can be cached for good.
        return send(c, `assets/${name}`, true);
      },
    },
  ];
}
