/** Ports the core and the HTTP layer need from the outside world; adapters implement them. */

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A structured logger (pino on Node, console JSON on the edge). Never pass secrets or emails. */
export interface Logger {
  debug(obj: Record<string, unknown>, msg?: string): void;
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Counters the core and workers report; the Node entry backs them with prom-client, the edge with nothing. */
export interface Telemetry {
  decision(flow: string, rule: string): void;
  job(kind: string, outcome: "completed" | "failed" | "retried" | "skipped"): void;
  stepDuration(flow: string, stepType: string, seconds: number): void;
}

export const noTelemetry: Telemetry = { decision() {}, job() {}, stepDuration() {} };
