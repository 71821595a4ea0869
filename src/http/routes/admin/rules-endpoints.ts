import type { Endpoint } from "../../context.js";
import type { RouterServices } from "../../services.js";
import { getAudit } from "./audit.js";
import { getDecision } from "./decisions.js";
import { getActiveRules } from "./rules.js";
import { backtestRules } from "./rules-backtest.js";
import { publishRules } from "./rules-publish.js";
import { rollbackRules } from "./rules-rollback.js";
import { simulateRules } from "./rules-simulate.js";
import { validateRules } from "./rules-validate.js";
import { getRuleVersion, listRuleVersions } from "./rules-versions.js";

/** Every `/v1/admin/rules…`, decisions and audit endpoint (Node entry only). */
export const adminRulesEndpoints: readonly Endpoint<RouterServices>[] = [
  getActiveRules,
  publishRules,
  listRuleVersions,
  getRuleVersion,
  validateRules,
  simulateRules,
  backtestRules,
  rollbackRules,
  getDecision,
  getAudit,
];
