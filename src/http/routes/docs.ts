import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Endpoint } from "../context.js";
import { ApiError } from "../errors.js";

const ASSETS: Record<string, string> = {
  "swagger-ui.css": "text/css; charset=utf-8",
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
};

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>onboarding-router API reference</title><link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div><script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/init.js"></script></body></html>`;

const INIT = `window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });`;

const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'";

/** `/docs`: Swagger UI served from the service itself (swagger-ui-dist), so it works offline. */
export function docsEndpoints<S>(): Endpoint<S>[] {
  const dir = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const cache = new Map<string, string>();
  const asset = (name: string) => {
    let body = cache.get(name);
    if (body === undefined) {
      body = readFileSync(join(dir, name), "utf8");
      cache.set(name, body);
    }
    return body;
  };
  return [
    {
      method: "GET",
      path: "/docs",
      scopes: [],
      noServices: true,
      openapi: {
        tags: ["docs"],
        summary: "The rendered API reference (HTML; its assets are served here, not from a CDN)",
        responses: { 200: { description: "the reference page" } },
      },
      handler: (c) => c.html(PAGE, 200, { "content-security-policy": CSP }),
    },
    {
      method: "GET",
      path: "/docs/assets/:name",
      scopes: [],
      noServices: true,
      handler: (c) => {
        const name = c.req.param("name") ?? "";
        if (name === "init.js")
          return c.body(INIT, 200, { "content-type": "text/javascript; charset=utf-8" });
        const type = ASSETS[name];
        if (!type) throw new ApiError("not_found", `No docs asset ${name}`);
        return c.body(asset(name), 200, { "content-type": type, "cache-control": "public, max-age=3600" });
      },
    },
  ];
}
