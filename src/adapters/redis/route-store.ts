import { stageOf } from "../../core/analytics/stage.js";
import { compactEvaluations } from "../../core/decision/trace-codec.js";
import type { Decision, Reason } from "../../core/decision/types.js";
import { buildFacts, type HandoverView } from "../../core/facts.js";
import {
  type InstanceState,
  type OutboxIntent,
  pendingStepJobIds,
  type RouteInput,
  stepJobId,
  stepRevOf,
} from "../../core/flow/instance.js";
import { newId } from "../../core/ids.js";
import {
  factsKeyOf,
  firstStep,
  newDecisionId,
  reasonsOf,
  rerouteAllowed,
  stepOf,
  subjectOf,
} from "../../core/routing.js";
import type { ActiveRules } from "../../core/rules-runtime.js";
import { subjectKey } from "../../core/ruleset/run-tests.js";
import type { FlowDefinition } from "../../core/ruleset/schemas.js";
import type { RouterServices } from "../../http/services.js";
import { type RouteChange, routeChangeAttribution, routeChangeEvents } from "../analytics/recorder.js";
import { decodeInstance, INSTANCE_FIELD_ARGS, pushInstanceFields } from "./instance-codec.js";
import { routeCommands } from "./route-scripts.js";

export interface RouteRequest {
  readonly accountId: string;
  readonly userId?: string | undefined;
  readonly input: RouteInput;
}

export interface RouteOutcome {
  readonly decisionId: string;
  readonly accountId: string;
  readonly userId?: string;
  readonly instanceId: string;
  readonly reused: boolean;
  readonly flow: { readonly id: string; readonly version: number };
  readonly step: { readonly id: string; readonly type: string; readonly title: string } | null;
  readonly ruleset: { readonly version: number };
  readonly reasons: readonly Reason[];
  readonly rerouted?: { readonly from: string; readonly to: string };
  readonly experiment?: { readonly id: string; readonly variant: string };
}

export class NoRulesetError extends Error {
  constructor() {
    super("no valid ruleset is loaded");
    this.name = "NoRulesetError";
  }
}

interface StoredHandover extends HandoverView {
  readonly handoverId?: string;
  readonly receivedAt?: string;
}

const MAX_ATTEMPTS = 8;

/**
 * Picks (or returns) the flow instance of one subject. First decisions create the instance
 * atomically (exactly one concurrent creator wins); repeats with unchanged facts write
 * nothing; changed facts re-decide while the flow's re-route policy allows.
 */
export async function routeSubject(
  svc: RouterServices,
  req: RouteRequest,
  /** The ruleset the caller already validated the answers against (one version per decision). */
  active?: ActiveRules,
): Promise<RouteOutcome> {
  const out = await decideSubject(svc, req, active, true);
  if (!out) throw new Error("route: no outcome for a subject it may create");
  return out;
}

/**
 * routeSubject's loop. With `mayCreate` false (a queued re-decision) a subject without an
 * instance is left alone: an erase that landed meanwhile stays an erase.
 */
async function decideSubject(
  svc: RouterServices,
  req: RouteRequest,
  active: ActiveRules | undefined,
  mayCreate: boolean,
): Promise<RouteOutcome | undefined> {
  const rules = active ?? (await svc.rules.active());
  if (!rules) throw new NoRulesetError();
  const redis = routeCommands(svc.redis);
  const k = svc.keys.account;
  const subject = subjectOf(req.userId);
  const instPrefix = k.instance(req.accountId, "");
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const [rawInst, rawHandover, knownHandoverId] = await redis.routeLookup(
      k.subjects(req.accountId),
      k.handover(req.accountId),
      k.meta(req.accountId),
      subject,
      instPrefix,
    );
    let handover = rawHandover ? (JSON.parse(rawHandover) as StoredHandover) : undefined;
    let factsKey = factsKeyOf(req.input, knownHandoverId ?? handover?.handoverId);
    const existing = decodeInstance(rawInst);
    if (existing) {
      const pinned = await svc.rules.flow(existing.flowId, existing.flowVersion);
      // The last attempt answers the instance as it stands: requests racing with other answers
      // for one subject keep re-deciding each other's work, and the next request re-decides.
      if (
        existing.factsKey === factsKey ||
        !rerouteAllowed(pinned, existing) ||
        attempt === MAX_ATTEMPTS - 1
      ) {
        return outcomeOf(existing, pinned, true);
      }
      if (knownHandoverId !== null && !handover) {
        // The lookup sent only the handover's id; a re-decision needs the document.
        const raw = await svc.redis.get(k.handover(req.accountId));
        handover = raw ? (JSON.parse(raw) as StoredHandover) : undefined;
        factsKey = factsKeyOf(req.input, handover?.handoverId);
      }
      const result = await redecide(svc, rules, existing, pinned, req, handover, factsKey);
      if (result) return result;
      continue; // lost a compare-and-set race: read again
    }
    if (!mayCreate) return undefined;
    // The last attempt creates even if yet another handover landed meanwhile (a storm of them
    // for one account), queueing a re-decision that picks that handover up.
    const last = attempt === MAX_ATTEMPTS - 1;
    const created = await create(svc, rules, req, handover, factsKey, subject, last);
    if (created) return created;
  }
  throw new Error("route: too much contention on one subject");
}

async function decide(
  svc: RouterServices,
  rules: ActiveRules,
  req: RouteRequest,
  handover: StoredHandover | undefined,
): Promise<{ decision: Decision; facts: ReturnType<typeof buildFacts>; reasons: Reason[] }> {
  const facts = buildFacts({
    accountId: req.accountId,
    userId: req.userId,
    role: req.input.role,
    answers: req.input.answers,
    handover: handover ? stripMeta(handover) : undefined,
    now: svc.clock.now(),
    settings: rules.ruleset.settings,
  });
  const decision = await rules.ruleset.decider.decide(facts, subjectKey(req.accountId, req.userId));
  svc.telemetry.decision(decision.flow, decision.rule ?? "(default)");
  return { decision, facts, reasons: reasonsOf(decision, handover !== undefined) };
}

function stripMeta(h: StoredHandover): HandoverView {
  const { handoverId: _i, receivedAt: _r, ...rest } = h;
  return rest;
}

function decisionRecord(
  decisionId: string,
  at: Date,
  req: RouteRequest,
  rules: ActiveRules,
  flow: { id: string; version: number },
  d: Awaited<ReturnType<typeof decide>>,
): string {
  const head = JSON.stringify({
    decisionId,
    at: at.toISOString(),
    accountId: req.accountId,
    ...(req.userId ? { userId: req.userId } : {}),
    facts: d.facts,
    ruleset: { version: rules.version },
    flow,
    rule: d.decision.rule,
    ...(d.decision.experiment ? { experiment: d.decision.experiment } : {}),
    reasons: d.reasons,
  });
  // The full trace last, compact: only what varies per decision. Readers expand it with the
  // routing rules of the version named above (adapters/redis/decision-records.ts).
  const trace = JSON.stringify(compactEvaluations(d.decision.evaluations, rules.ruleset.routing));
  return `${head.slice(0, -1)},"t":${trace}}`;
}

function flowOf(rules: ActiveRules, flowId: string): { def: FlowDefinition; version: number } {
  const def = rules.ruleset.flows.get(flowId);
  if (!def) throw new Error(`ruleset ${rules.version} has no flow ${flowId}`);
  return { def, version: rules.flowVersions[flowId] ?? 1 };
}

async function create(
  svc: RouterServices,
  rules: ActiveRules,
  req: RouteRequest,
  handover: StoredHandover | undefined,
  factsKey: string,
  subject: string,
  /** Create even if a newer handover landed since the lookup, queueing its re-decision. */
  evenIfLate = false,
): Promise<RouteOutcome | undefined> {
  const d = await decide(svc, rules, req, handover);
  const { def, version } = flowOf(rules, d.decision.flow);
  const now = svc.clock.now();
  const nowMs = now.getTime();
  // One draw of random bytes for both ids (each keeps its 16 base-36 characters).
  const random = newId("x", 32);
  const instanceId = `fi_${random.slice(2, 18)}`;
  const decisionId = newDecisionId(req.accountId, random.slice(18));
  const step = firstStep(def);
  const state: InstanceState = {
    id: instanceId,
    accountId: req.accountId,
    ...(req.userId ? { userId: req.userId } : {}),
    subject,
    flowId: def.id,
    flowVersion: version,
    rulesetVersion: rules.version,
    status: "active",
    stepId: step?.id ?? null,
    stepStatus: "pending",
    stepEnteredAt: nowMs,
    rev: 1,
    attempt: 0,
    createdAt: nowMs,
    updatedAt: nowMs,
    decisionId,
    factsKey,
    reasons: d.reasons,
    input: req.input,
    entered: step ? [step.id] : [],
    ...(d.decision.experiment ? { experiment: d.decision.experiment } : {}),
  };
  const at = now.toISOString();
  const change: RouteChange = {
    kind: "decision",
    state,
    segment: d.facts.account.segment,
    rule: d.decision.rule,
    stage: stageOf(def, state.stepId),
  };
  const intent: OutboxIntent | undefined = step
    ? {
        id: stepJobId(instanceId, step.id, 1),
        kind: "step.enter",
        accountId: req.accountId,
        instanceId,
        stepId: step.id,
        rev: 1,
        runAt: 0,
        announce: true,
        ...(step.type === "action" ? { callsOut: true } : {}),
        ...(analyticsOn(svc) ? { analytics: routeChangeEvents(change) } : {}),
      }
    : undefined;
  const attribution = routeChangeAttribution(change);
  const k = svc.keys.account;
  const redis = routeCommands(svc.redis);
  const history: string[] = [
    JSON.stringify({
      at,
      type: "started",
      detail: { flow: def.id, version, decisionId, rule: d.decision.rule },
    }),
  ];
  if (step) history.push(JSON.stringify({ at, type: "step.entered", stepId: step.id }));
  const attributionFields = analyticsOn(svc) ? attribution.fields : [];
  const lateIntent = evenIfLate ? redecideIntent(req.accountId, instanceId) : "";
  const outboxValue = intent
    ? JSON.stringify(intent)
    : JSON.stringify({ id: `${instanceId}-noop`, kind: "noop" });
  const args: (string | number)[] = [
    k.subjects(req.accountId),
    k.meta(req.accountId),
    k.decisions(req.accountId),
    k.outbox(req.accountId),
    subject,
    k.instance(req.accountId, ""),
    k.history(req.accountId, ""),
    instanceId,
    k.decision(req.accountId, decisionId),
    decisionRecord(decisionId, now, req, rules, { id: def.id, version }, d),
    svc.settings.decisionTtlSeconds,
    decisionId,
    outboxValue,
    nowMs,
    attributionFields.length > 0 ? attribution.key(svc.keys) : "",
    INSTANCE_FIELD_ARGS,
    history.length,
    attributionFields.length,
    handover?.handoverId ?? "",
    lateIntent,
  ];
  pushInstanceFields(state, args);
  for (const h of history) args.push(h);
  for (const f of attributionFields) args.push(f);
  const [status, raw] = await redis.routeCreate(...args);
  if (status === "stale") return undefined; // a handover arrived meanwhile: decide again with it
  if (status === "exists") {
    // Another request created the subject first. Decided on the same facts: that is our answer.
    // On other facts (other answers): look again, so these facts re-decide where the flow allows
    // (on the last attempt, answer it as it stands, as a lookup would).
    const existing = decodeInstance(raw);
    if (!existing || (existing.factsKey !== factsKey && !evenIfLate)) return undefined;
    return outcomeOf(existing, await svc.rules.flow(existing.flowId, existing.flowVersion), true);
  }
  afterWrite(svc, req.accountId, decisionId, nowMs, outboxValue);
  if (status === "late") wakeRelayFor(svc, req.accountId, lateIntent);
  return outcomeOf(state, def, false);
}

async function redecide(
  svc: RouterServices,
  rules: ActiveRules,
  existing: InstanceState,
  pinned: FlowDefinition | undefined,
  req: RouteRequest,
  handover: StoredHandover | undefined,
  factsKey: string,
): Promise<RouteOutcome | undefined> {
  const d = await decide(svc, rules, req, handover);
  const now = svc.clock.now();
  const nowMs = now.getTime();
  const at = now.toISOString();
  const decisionId = newDecisionId(req.accountId, newId("x", 16).slice(2));
  const switching = d.decision.flow !== existing.flowId;
  const target = switching ? flowOf(rules, d.decision.flow) : { def: pinned, version: existing.flowVersion };
  const rev = existing.rev + 1;
  const step = switching && target.def ? firstStep(target.def) : undefined;
  // A switch starts the new flow afresh: no due date, error, experiment or task marks carry over.
  const {
    stepDueAt: _due,
    error: _error,
    experiment: _experiment,
    reminded: _reminded,
    overdue: _overdue,
    ...carried
  } = existing;
  const next: InstanceState = switching
    ? {
        ...carried,
        flowId: d.decision.flow,
        flowVersion: target.version,
        rulesetVersion: rules.version,
        status: "active",
        stepId: step?.id ?? null,
        stepStatus: "pending",
        stepEnteredAt: nowMs,
        attempt: 0,
        rev,
        stepRev: rev,
        updatedAt: nowMs,
        decisionId,
        factsKey,
        reasons: d.reasons,
        input: req.input,
        entered: step ? [step.id] : [],
        ...(d.decision.experiment ? { experiment: d.decision.experiment } : {}),
      }
    : {
        // The same flow goes on where it is: its step's pending job and timers carry the step's
        // rev, which this write keeps, so they still run (bumping it left the instance stuck).
        ...existing,
        rev,
        stepRev: stepRevOf(existing),
        updatedAt: nowMs,
        decisionId,
        factsKey,
        reasons: d.reasons,
        input: req.input,
        rulesetVersion: rules.version,
      };
  const history = switching
    ? [
        {
          at,
          type: "rerouted",
          detail: {
            from: existing.flowId,
            to: d.decision.flow,
            why: d.decision.rule ?? "(default)",
            decisionId,
          },
        },
        ...(step ? [{ at, type: "step.entered", stepId: step.id }] : []),
      ]
    : [{ at, type: "redecided", detail: { flow: existing.flowId, decisionId, rule: d.decision.rule } }];
  const change: RouteChange | undefined = switching
    ? {
        kind: "rerouted",
        state: next,
        segment: d.facts.account.segment,
        rule: d.decision.rule,
        from: existing.flowId,
        stage: stageOf(target.def, next.stepId),
      }
    : undefined;
  const intent: OutboxIntent | undefined =
    switching && step
      ? {
          id: stepJobId(existing.id, step.id, rev),
          kind: "step.enter",
          accountId: req.accountId,
          instanceId: existing.id,
          stepId: step.id,
          rev,
          runAt: 0,
          announce: true,
          ...(step.type === "action" ? { callsOut: true } : {}),
          ...(change && analyticsOn(svc) ? { analytics: routeChangeEvents(change) } : {}),
          // "A switch cancels the old flow's pending jobs": the relay removes them.
          cancel: pendingStepJobIds(existing),
        }
      : undefined;
  const attribution = change && analyticsOn(svc) ? routeChangeAttribution(change) : undefined;
  const k = svc.keys.account;
  const attributionFields = attribution ? attribution.fields : [];
  const intentValue = intent ? JSON.stringify(intent) : undefined;
  const args: (string | number)[] = [
    k.instance(req.accountId, existing.id),
    k.history(req.accountId, existing.id),
    k.decisions(req.accountId),
    k.outbox(req.accountId),
    String(existing.rev),
    k.decision(req.accountId, decisionId),
    decisionRecord(decisionId, now, req, rules, { id: next.flowId, version: next.flowVersion }, d),
    svc.settings.decisionTtlSeconds,
    decisionId,
    intentValue ?? "",
    attribution && attributionFields.length > 0 ? attribution.key(svc.keys) : "",
    INSTANCE_FIELD_ARGS,
    history.length,
    attributionFields.length,
  ];
  pushInstanceFields(next, args);
  for (const h of history) args.push(JSON.stringify(h));
  for (const f of attributionFields) args.push(f);
  const [status] = await routeCommands(svc.redis).routeUpdate(...args);
  if (status !== "updated") return undefined;
  afterWrite(svc, req.accountId, decisionId, nowMs, intentValue);
  const out = outcomeOf(next, target.def, true);
  return switching ? { ...out, rerouted: { from: existing.flowId, to: next.flowId } } : out;
}

/**
 * Best-effort follow-ups outside the atomic write: wake the relay, index the decision for
 * backtests. (Analytics travel inside the outbox intent; the relay appends them.)
 */
/** A re-decision of the account through the queue (the handover's own intent, minus its id). */
function redecideIntent(accountId: string, instanceId: string): string {
  const intent: OutboxIntent = {
    id: `redecide-${instanceId}-late`,
    kind: "account.redecide",
    accountId,
    handoverId: "",
    runAt: 0,
  };
  return JSON.stringify(intent);
}

/** Hands one more committed outbox value to the in-process relay, or wakes a relay for it. */
function wakeRelayFor(svc: RouterServices, accountId: string, value: string): void {
  if (svc.relayCommitted?.(accountId, [value]) === true) return;
  svc.redis.lpush(svc.keys.global.ready, accountId).catch(() => {});
  svc.wakeRelay(accountId);
}

function afterWrite(
  svc: RouterServices,
  accountId: string,
  decisionId: string,
  nowMs: number,
  /** The outbox value the write appended, if any. */
  intent: string | undefined,
): void {
  // An in-process relay takes the intent at once; the ready list is for relays elsewhere. Pushing
  // both made the relay move the intent twice (its job once, by id, but its analytics twice). A
  // crash before the hand-off leaves the intent in the outbox, where the paced sweep finds it.
  // A closing relay (shutdown) refuses the hand-off: then the ready list wakes a relay elsewhere
  // or after the restart, rather than leaving the intent to the paced sweep.
  const handed = intent !== undefined && svc.relayCommitted?.(accountId, [intent]) === true;
  const readyFor = intent !== undefined && !handed ? accountId : undefined;
  bookkeeping(svc, readyFor, decisionId, nowMs);
  if (intent !== undefined && !handed) svc.wakeRelay(accountId);
}

interface Bookkeeping {
  readonly svc: RouterServices;
  readonly ready: string[];
  readonly recent: (number | string)[];
}

/** Whether this process records analytics (benches can switch it off to measure its cost). */
function analyticsOn(svc: RouterServices): boolean {
  return (svc as { analytics?: "off" }).analytics !== "off";
}

const pendingBookkeeping = new WeakMap<object, Bookkeeping>();

/**
 * Queues the relay wake-up and the backtest index entry. Decisions whose Redis replies arrive
 * together share one LPUSH + one ZADD, sent at the end of the current microtask run (before a
 * per-request edge client is released), instead of one pipeline write per decision.
 */
function bookkeeping(
  svc: RouterServices,
  ready: string | undefined,
  decisionId: string,
  nowMs: number,
): void {
  let batch = pendingBookkeeping.get(svc.redis);
  if (!batch) {
    const created: Bookkeeping = { svc, ready: [], recent: [] };
    batch = created;
    pendingBookkeeping.set(svc.redis, created);
    queueMicrotask(() => {
      pendingBookkeeping.delete(created.svc.redis);
      flushBookkeeping(created);
    });
  }
  if (ready !== undefined) batch.ready.push(ready);
  batch.recent.push(nowMs, decisionId);
}

function flushBookkeeping({ svc, ready, recent }: Bookkeeping): void {
  const g = svc.keys.global;
  const p = svc.redis.pipeline();
  if (ready.length > 0) p.lpush(g.ready, ...ready);
  p.zadd(g.recentDecisions, ...recent);
  if (Math.random() < 0.005 * recent.length) p.zremrangebyrank(g.recentDecisions, 0, -10_001);
  p.exec().catch((error: unknown) =>
    svc.logger.warn({ err: String(error) }, "post-route bookkeeping failed"),
  );
}

function outcomeOf(s: InstanceState, flow: FlowDefinition | undefined, reused: boolean): RouteOutcome {
  // As in GET /v1/accounts/:id: a completed or cancelled instance has no current step.
  const open = s.status === "active" || s.status === "failed";
  const step = open ? stepOf(flow, s.stepId) : undefined;
  return {
    decisionId: s.decisionId,
    accountId: s.accountId,
    ...(s.userId ? { userId: s.userId } : {}),
    instanceId: s.id,
    reused,
    flow: { id: s.flowId, version: s.flowVersion },
    step: step ? { id: step.id, type: step.type, title: step.title } : null,
    ruleset: { version: s.rulesetVersion },
    reasons: s.reasons,
    ...(s.experiment ? { experiment: s.experiment } : {}),
  };
}

/** Re-decides every instance of an account from its stored survey input (after a late handover). */
export async function redecideAccount(svc: RouterServices, accountId: string): Promise<number> {
  const subjects = await svc.redis.hgetall(svc.keys.account.subjects(accountId));
  let moved = 0;
  for (const subject of Object.keys(subjects)) {
    const raw = await svc.redis.hgetall(svc.keys.account.instance(accountId, subjects[subject]!));
    const inst = decodeInstance(raw);
    if (inst?.status !== "active") continue;
    // Never creates: an erase landing after the reads above must not be undone from them.
    const out = await decideSubject(
      svc,
      { accountId, userId: inst.userId, input: inst.input },
      undefined,
      false,
    );
    if (out?.rerouted) moved++;
  }
  return moved;
}
