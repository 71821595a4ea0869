// Builds the ops console (dist/console) when it is missing or older than its sources,
// so `npm start` and `npm test` work on a fresh clone without a separate build step.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const out = "dist/console/index.html";
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const p = join(dir, e.name);
    return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }, 0);
if (!existsSync(out) || newest("console") > statSync(out).mtimeMs) {
  execFileSync(
    process.execPath,
    ["node_modules/vite/bin/vite.js", "build", "console", "--logLevel", "warn"],
    {
      stdio: "inherit",
    },
  );
}
