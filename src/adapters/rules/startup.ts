import type { Logger } from "../../core/ports.js";
import { err, ok, type Result } from "../../core/result.js";
import type { RuleProblem } from "../../core/ruleset/index.js";
import type { RedisClient } from "../redis/connect.js";
import type { Keys } from "../redis/keys.js";
import { readRulesDir } from "../rules-dir.js";
import { loadRulesetDocument } from "./load.js";
import { createRulesStore } from "./store.js";

export interface StartupRulesOptions {
  readonly redis: RedisClient;
  readonly keys: Keys;
  readonly rulesDir: string;
  /** RULES_AUTOPUBLISH: publish the directory when it changed since the last directory publish. */
  readonly autopublish: boolean;
  readonly logger?: Logger;
  readonly clock?: { now(): Date };
}

export interface StartupRulesResult {
  /** The active version after start-up. */
  readonly version: number;
  /** Whether this process published the directory. */
  readonly published: boolean;
}

/**
 * Called by the Node entry before serving. Reads and validates RULES_DIR (an invalid one
 * is an error: the entry prints every problem and exits 1), then publishes it when Redis
 * has no version yet, or when autopublish is on and the directory's hash differs from the
 * last version published *from the directory* (an API publish survives restarts).
 * Concurrent starts publish at most once: the hash check runs inside the publish script.
 */
export async function publishRulesDirAtStart(
  opts: StartupRulesOptions,
): Promise<Result<StartupRulesResult, RuleProblem[]>> {
  const doc = await readRulesDir(opts.rulesDir);
  if (!doc.ok) return err(doc.error);
  const loaded = await loadRulesetDocument(doc.value);
  if (!loaded.ok) return err(loaded.error);
  const store = createRulesStore(opts.redis, opts.keys, opts.clock);
  const active = await store.activeVersion();
  if (active !== undefined && !opts.autopublish) return ok({ version: active, published: false });
  const outcome = await store.publish({
    files: loaded.value.files,
    loaded: loaded.value,
    message: `published from ${opts.rulesDir} at start-up`,
    author: "startup",
    source: "dir",
    expected: active === undefined ? 0 : "any",
    onlyIfDirChanged: true,
    action: "publish_dir",
  });
  if (!outcome.ok) {
    // Another process published first (no version before): theirs is active, ours is the same directory.
    const now = await store.activeVersion();
    return ok({ version: now ?? 0, published: false });
  }
  if (outcome.value.published)
    opts.logger?.info({ version: outcome.value.version, dir: opts.rulesDir }, "published RULES_DIR");
  return ok({ version: outcome.value.version, published: outcome.value.published });
}
