import pino from "pino";
import type { Logger } from "../core/ports.js";

/** pino JSON logs; known secret-bearing fields are redacted as a second line of defence. */
export function createLogger(level: string): Logger & { child(b: Record<string, unknown>): Logger } {
  return pino({
    level,
    base: { service: "onboarding-router" },
    redact: {
      paths: [
        "authorization",
        "*.authorization",
        "token",
        "*.token",
        "secret",
        "*.secret",
        "email",
        "*.email",
        "*.*.email",
      ],
      censor: "[redacted]",
    },
  });
}
