// The npm mirror this project is built on lacks some non-Linux platform binaries
// (biome, msgpackr-extract). npm then leaves them out of package-lock.json and
// `npm ci` refuses the lock. This adds platform-guarded stubs for the missing
// optional packages so `npm ci` on any machine sees a complete lock and skips
// them by os/cpu. Run after `npm install` changes the lock.
import { readFileSync, writeFileSync } from "node:fs";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const pkgs = lock.packages;
const platform = (name) => {
  const os = ["android", "darwin", "linux", "win32", "freebsd"].find((o) => name.includes(o));
  const cpu = ["arm64", "x64", "arm", "ia32"].find((c) => new RegExp(`${c}(-|$)`).test(name));
  const out = {};
  if (os) out.os = [os];
  if (cpu) out.cpu = [cpu];
  if (name.includes("musl")) out.libc = ["musl"];
  return out;
};
let added = 0;
for (const [path, meta] of Object.entries(pkgs)) {
  for (const [dep, version] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    if (pkgs[key] || pkgs[`${path}/node_modules/${dep}`]) continue;
    pkgs[key] = {
      version: version.replace(/^[\^~]/, ""),
      ...(meta.dev ? { dev: true } : {}),
      optional: true,
      ...platform(dep),
    };
    added++;
  }
}
writeFileSync("package-lock.json", `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} platform-guarded optional entries`);
