import type { Logger } from "../../core/ports.js";

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100 } as const;
export type EdgeLogLevel = keyof typeof LEVELS;

/** One JSON line per entry on the Workers console (what `wrangler tail` and Logpush read), pino-shaped. */
export function createConsoleLogger(
  level: EdgeLogLevel = "info",
  write: (line: string) => void = console.log,
): Logger {
  const min = LEVELS[level];
  const at =
    (name: Exclude<EdgeLogLevel, "trace" | "fatal" | "silent">) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      if (LEVELS[name] < min) return;
      write(
        JSON.stringify({
          level: LEVELS[name],
          time: Date.now(),
          service: "onboarding-router",
          runtime: "workers",
          ...obj,
          ...(msg ? { msg } : {}),
        }),
      );
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
