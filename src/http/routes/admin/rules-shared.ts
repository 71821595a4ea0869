import type { Context } from "hono";
import { z } from "zod";
import { createRulesStore, type RulesStore } from "../../../adapters/rules/store.js";
import type { RuleProblem } from "../../../core/ruleset/index.js";
import { readJson } from "../../body.js";
import type { AppEnv } from "../../context.js";
import { ApiError, detailOf, type FieldError, zodFieldErrors } from "../../errors.js";
import type { RouterServices } from "../../services.js";

type Ctx = Context<AppEnv<RouterServices>>;

/** A ruleset document: every rule file by its path relative to RULES_DIR. */
export const rulesetSchema = z.object({ files: z.record(z.string(), z.unknown()) }).meta({
  id: "RulesetDocument",
  description: "The whole RULES_DIR as one document: `files` maps each relative path to its parsed JSON.",
  example: {
    files: {
      "settings.json": {
        defaultFlow: "high-touch",
        currency: "USD",
        revenueTiers: [],
        regulatedIndustries: [],
      },
    },
  },
});

export const versionMetaSchema = z
  .object({
    version: z.number().int(),
    hash: z.string(),
    publishedAt: z.string(),
    author: z.string(),
    message: z.string(),
    source: z.enum(["dir", "api", "rollback"]),
    flowVersions: z.record(z.string(), z.number().int()),
  })
  .meta({ id: "RulesetVersionMeta" });

export const storedVersionSchema = versionMetaSchema
  .extend({ ruleset: rulesetSchema })
  .meta({ id: "RulesetVersion" });

export const versionResponseSchema = z
  .object({ version: z.number().int() })
  .meta({ example: { version: 13 } });

export const ruleProblemErrors = z.array(
  z.object({ file: z.string(), path: z.string(), message: z.string() }),
);

/** The admin's name for the audit log (`x-actor` header, else the token id). */
export function actorOf(c: Ctx): string {
  return c.get("principal")?.actor ?? "unknown";
}

export function storeOf(svc: RouterServices): RulesStore {
  return createRulesStore(svc.redis, svc.keys, svc.clock);
}

/** Reads the JSON body and parses it with `schema`; 422 with every field error otherwise. */
export async function parseBody<T>(c: Ctx, schema: z.ZodType<T>, maxBytes?: number): Promise<T> {
  const parsed = schema.safeParse(await readJson(c, maxBytes));
  if (!parsed.success) {
    const errors = zodFieldErrors(parsed.error.issues);
    throw new ApiError("validation_failed", detailOf(errors), errors);
  }
  return parsed.data;
}

/** 422 listing every ruleset problem with its file and JSON path (path prefixed for the problem shape). */
export function invalidRuleset(problems: readonly RuleProblem[]): ApiError {
  const errors: FieldError[] = problems.map((p) => ({ file: p.file, path: p.path, message: p.message }));
  const first = problems[0];
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return new ApiError(
    "validation_failed",
    first
      ? `The ruleset is invalid: ${first.file} ${first.path}: ${first.message}${more}`
      : "The ruleset is invalid",
    errors,
  );
}

/** A positive integer path parameter, else 404. */
export function versionParam(c: Ctx): number {
  const raw = c.req.param("version") ?? "";
  if (!/^[1-9]\d{0,9}$/.test(raw)) throw new ApiError("not_found", `No ruleset version ${raw}`);
  return Number(raw);
}

/** `If-Match: 3` or `"3"` (or `W/"3"`); undefined when absent; 409 when it is not a version. */
export function ifMatchVersion(c: Ctx): number | undefined {
  const raw = c.req.header("if-match");
  if (raw === undefined) return undefined;
  // If-Match compares strongly (RFC 9110 §13.1.1): a weak tag W/"3" never matches.
  // The tag is exactly the ETag's version: `02` or an unbalanced `"2` is another tag, not version 2.
  const m = /^\s*(?:"([1-9]\d{0,9})"|([1-9]\d{0,9}))\s*$/.exec(raw);
  if (!m)
    throw new ApiError(
      "conflict",
      `If-Match must be the active ruleset version, e.g. "3", not a weak or other tag (got ${raw.slice(0, 40)})`,
    );
  return Number(m[1] ?? m[2]);
}

export const limitQuery = (c: Ctx, fallback: number, max: number): number => {
  const raw = c.req.query("limit");
  if (raw === undefined) return fallback;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
    const errors = [{ path: "limit", message: `expected an integer from 1 to ${max}` }];
    throw new ApiError("validation_failed", detailOf(errors), errors);
  }
  return Number(raw);
};

/** Example for OpenAPI documents. */
export const auditEntrySchema = z
  .object({
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    version: z.number().int().optional(),
    summary: z.string(),
  })
  .meta({
    id: "AuditEntry",
    example: {
      at: "2025-05-01T09:00:00.000Z",
      actor: "jane (admin:0)",
      action: "publish",
      version: 13,
      summary: "1 file(s) changed (routing/40-survey.json); rules ~1 (self-serve-experts)",
    },
  });

/**
 * After a publish or rollback in this process: make the new version active here before answering,
 * so the caller's next /v1/route on this process uses it (read your writes). The second refresh
 * covers a check that was already in flight before the publish. Other processes follow within ~1 s.
 */
export async function activateNow(svc: RouterServices): Promise<void> {
  await svc.rules.refresh?.();
  await svc.rules.refresh?.();
}
