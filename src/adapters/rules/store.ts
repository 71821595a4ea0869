import { err, ok, type Result } from "../../core/result.js";
import { contentHash, type RuleProblem, type Ruleset } from "../../core/ruleset/index.js";
import type { RedisClient } from "../redis/connect.js";
import type { Keys } from "../redis/keys.js";
import { diffRulesets, summarizeDiff } from "./diff.js";
import { loadRulesetDocument } from "./load.js";

export type VersionSource = "dir" | "api" | "rollback";

/** One published ruleset version, immutable once written. */
export interface StoredVersion {
  readonly version: number;
  readonly hash: string;
  readonly publishedAt: string;
  readonly author: string;
  readonly message: string;
  readonly source: VersionSource;
  /** flowId → that flow's own version number in this ruleset version. */
  readonly flowVersions: Readonly<Record<string, number>>;
  readonly ruleset: { readonly files: Readonly<Record<string, unknown>> };
}

export type VersionMeta = Omit<StoredVersion, "ruleset">;

/** One audit log entry: who did what, when. */
export interface AuditEntry {
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly version?: number;
  readonly summary: string;
}

export interface PublishInput {
  readonly files: Readonly<Record<string, unknown>>;
  readonly message: string;
  readonly author: string;
  readonly source: VersionSource;
  /** The active version the caller saw (0 = none yet), or "any" to skip the check. */
  readonly expected: number | "any";
  /** Audit action name; defaults to `publish` (or `rollback`). */
  readonly action?: string;
  /** For a directory publish: skip (no new version) when the directory hash equals the stored one. */
  readonly onlyIfDirChanged?: boolean;
  /** Already loaded (saves validating twice). */
  readonly loaded?: Ruleset;
}

export type PublishOutcome =
  | {
      readonly published: true;
      readonly version: number;
      readonly flowVersions: Record<string, number>;
      readonly summary: string;
    }
  | { readonly published: false; readonly version: number };

export type PublishError =
  | { readonly kind: "invalid"; readonly problems: RuleProblem[] }
  | { readonly kind: "stale"; readonly active: number };

const AUDIT_MAX = 10_000;

/**
 * One Lua call (one slot, `{#rules}`): checks the expected active version, numbers the
 * version and each changed flow, writes them, flips `active`, appends the audit entry and
 * announces the version. Version and flow keys are built from prefixes passed in ARGV,
 * all inside the same hash tag.
 */
const PUBLISH_SCRIPT = `
local active = tonumber(redis.call('GET', KEYS[1]) or '0')
if ARGV[6] == '1' and active > 0 and redis.call('GET', KEYS[5]) == ARGV[5] then
  return {0, active}
end
if ARGV[1] ~= '*' and tonumber(ARGV[1]) ~= active then
  return {-1, active}
end
local v = redis.call('INCR', KEYS[2])
local fv = {}
local n = tonumber(ARGV[9])
for i = 0, n - 1 do
  local id, hash, json, fkey = ARGV[10 + i * 4], ARGV[11 + i * 4], ARGV[12 + i * 4], ARGV[13 + i * 4]
  local known = redis.call('HGET', KEYS[4], id .. ':' .. hash)
  local num
  if known then
    num = tonumber(known)
  else
    num = redis.call('HINCRBY', KEYS[4], id, 1)
    redis.call('HSET', KEYS[4], id .. ':' .. hash, num)
    redis.call('SET', fkey .. num, json)
  end
  fv[id] = num
end
local fvjson = '{}'
if n > 0 then fvjson = cjson.encode(fv) end
redis.call('SET', ARGV[2] .. v, '{"version":' .. v .. ',"flowVersions":' .. fvjson .. ',' .. ARGV[3])
redis.call('ZADD', KEYS[3], v, v)
redis.call('SET', KEYS[1], v)
if ARGV[5] ~= '' then redis.call('SET', KEYS[5], ARGV[5]) end
for _, log in ipairs({KEYS[6], KEYS[7]}) do
  redis.call('LPUSH', log, '{"version":' .. v .. ',' .. ARGV[4])
  redis.call('LTRIM', log, 0, tonumber(ARGV[8]) - 1)
end
redis.call('PUBLISH', ARGV[7], v)
return {1, v, fvjson}
`;

/** JSON text of an object without its opening brace, to splice fields in front inside Lua. */
const tail = (value: object): string => JSON.stringify(value).slice(1);

const parse = <T>(text: string | null | undefined): T | undefined =>
  text ? (JSON.parse(text) as T) : undefined;

/** The Redis-backed store of ruleset versions, flow versions and the admin audit log. */
export interface RulesStore {
  activeVersion(): Promise<number | undefined>;
  version(v: number): Promise<StoredVersion | undefined>;
  /** Newest first; `before` = only versions lower than this. */
  versions(limit: number, before?: number): Promise<VersionMeta[]>;
  publish(input: PublishInput): Promise<Result<PublishOutcome, PublishError>>;
  /** A new version with the content of an earlier one. */
  rollback(
    to: number,
    author: string,
    expected: number | "any",
  ): Promise<Result<PublishOutcome, PublishError | { kind: "missing" }>>;
  dirHash(): Promise<string | undefined>;
  /** Appends an entry to the log of every admin call and, when it `changed` something, to the log of changes. */
  audit(entry: AuditEntry, changed?: boolean): Promise<void>;
  /** A page of the log of changes, newest first; `all` pages through every admin call instead. */
  auditLog(limit: number, offset?: number, all?: boolean): Promise<AuditEntry[]>;
  /** The flow version a flow definition would get (known content), or undefined when new. */
  knownFlowVersion(flowId: string, hash: string): Promise<number | undefined>;
}

/** Builds the store over one client; cheap, so handlers may build one per request. */
export function createRulesStore(
  redis: RedisClient,
  keys: Keys,
  clock: { now(): Date } = { now: () => new Date() },
): RulesStore {
  const k = keys.rules;
  const versionPrefix = k.version(0).replace(/0$/, "");

  const store: RulesStore = {
    async activeVersion() {
      const v = await redis.get(k.active);
      return v ? Number(v) : undefined;
    },
    async version(v) {
      return parse<StoredVersion>(await redis.get(k.version(v)));
    },
    async versions(limit, before) {
      const max = before === undefined ? "+inf" : `(${before}`;
      const ids = await redis.zrevrangebyscore(k.versions, max, "-inf", "LIMIT", 0, limit);
      if (ids.length === 0) return [];
      const docs = await redis.mget(...ids.map((id) => k.version(Number(id))));
      return docs.flatMap((d) => {
        const full = parse<StoredVersion>(d);
        if (!full) return [];
        const { ruleset: _files, ...meta } = full;
        return [meta];
      });
    },
    dirHash: async () => (await redis.get(k.dirHash)) ?? undefined,
    async knownFlowVersion(flowId, hash) {
      const v = await redis.hget(k.flowVersions, `${flowId}:${hash}`);
      return v ? Number(v) : undefined;
    },
    async publish(input) {
      let ruleset = input.loaded;
      if (!ruleset) {
        const loaded = await loadRulesetDocument({ files: input.files });
        if (!loaded.ok) return err({ kind: "invalid", problems: loaded.error });
        ruleset = loaded.value;
      }
      const previousVersion = await store.activeVersion();
      const previous = previousVersion === undefined ? undefined : await store.version(previousVersion);
      const summary = summarizeDiff(diffRulesets(previous?.ruleset.files, ruleset.files));
      const now = clock.now().toISOString();
      const action = input.action ?? (input.source === "rollback" ? "rollback" : "publish");
      const doc = {
        hash: ruleset.hash,
        publishedAt: now,
        author: input.author,
        message: input.message,
        source: input.source,
        ruleset: { files: ruleset.files },
      };
      const flowArgs: string[] = [];
      for (const [id, flow] of ruleset.flows) {
        flowArgs.push(id, await contentHash(flow), JSON.stringify(flow), k.flow(id, 0).replace(/0$/, ""));
      }
      const res = (await redis.eval(
        PUBLISH_SCRIPT,
        7,
        k.active,
        k.seq,
        k.versions,
        k.flowVersions,
        k.dirHash,
        k.audit,
        k.auditChanges,
        input.expected === "any" ? "*" : String(input.expected),
        versionPrefix,
        tail(doc),
        tail({
          at: now,
          actor: input.author,
          action,
          summary: `${summary}${input.message ? ` — ${input.message}` : ""}`,
        }),
        input.source === "dir" ? ruleset.hash : "",
        input.onlyIfDirChanged ? "1" : "0",
        k.channel,
        String(AUDIT_MAX),
        String(ruleset.flows.size),
        ...flowArgs,
      )) as [number, number, string?];
      const [status, version, fv] = res;
      if (status === -1) return err({ kind: "stale", active: version });
      if (status === 0) return ok({ published: false, version });
      return ok({
        published: true,
        version,
        flowVersions: JSON.parse(fv ?? "{}") as Record<string, number>,
        summary,
      });
    },
    async rollback(to, author, expected) {
      const target = await store.version(to);
      if (!target) return err({ kind: "missing" });
      return store.publish({
        files: target.ruleset.files,
        message: `rollback to version ${to}`,
        author,
        source: "rollback",
        expected,
      });
    },
    async audit(entry, changed = false) {
      const p = redis.pipeline();
      for (const log of changed ? [k.audit, k.auditChanges] : [k.audit])
        p.lpush(log, JSON.stringify(entry)).ltrim(log, 0, AUDIT_MAX - 1);
      await p.exec();
    },
    async auditLog(limit, offset = 0, all = false) {
      const rows = await redis.lrange(all ? k.audit : k.auditChanges, offset, offset + limit - 1);
      return rows.map((r) => JSON.parse(r) as AuditEntry);
    },
  };
  return store;
}
