import { describe, expect, it } from "vitest";
import { isJsonMediaType } from "../../../src/http/body.js";

describe("the JSON media type check", () => {
  it.each([
    "application/json",
    "APPLICATION/JSON",
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    'application/json; charset="utf-8"',
    "application/json; version=2",
    "application/json; version=2; charset=utf-8",
    "application/merge-patch+json",
    " application/json ",
  ])("accepts %s", (ct) => {
    expect(isJsonMediaType(ct)).toBe(true);
  });

  it.each([
    "text/plain",
    "application/xml",
    "application/jsonx",
    "application/json; charset=latin1",
    "application/json; charset=utf-16",
    "multipart/form-data; boundary=x",
    "",
  ])("refuses %s", (ct) => {
    expect(isJsonMediaType(ct)).toBe(false);
  });
});
