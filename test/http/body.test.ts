/**
 * The JSON body reader on its own: what it refuses (a property named twice in one object, names that reach a
 * prototype, text that is not JSON) and what it must not refuse (the same name at another depth or in
 * another object, names that only look alike, a name's text inside a string value).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseJsonStrict } from "../../src/http/json-body";
import { ProblemError } from "../../src/http/problem";

/** The problem's single error message, or null if the text was accepted. */
function refusal(text: string, refuseDuplicateKeys = true): string | null {
  try {
    parseJsonStrict(text, { refuseDuplicateKeys });
    return null;
  } catch (error) {
    expect(error).toBeInstanceOf(ProblemError);
    const problem = error as ProblemError;
    expect(problem.code).toBe("invalid_request");
    const errors = (problem.options.extra as { errors: { path: string; message: string }[] }).errors;
    expect(errors).toHaveLength(1);
    return errors[0]!.message;
  }
}

const TWICE = "a property is named twice in one object";

describe("duplicate property names", () => {
  it.each([
    ["at the top level", '{"a":1,"a":2}'],
    ["with whitespace before the colon", '{"a" :1, "a"\n\t:2}'],
    ["spelled differently but equal once unescaped", '{"a":1,"\\u0061":2}'],
    ["with an escaped quote in the name", '{"x\\"y":1,"x\\"y":2}'],
    ["with braces and brackets in the name", '{"}]":1,"}]":2}'],
    ["in a nested object", '{"outer":{"b":1,"c":[],"b":null}}'],
    ["in an object inside an array", '[1,{"k":true,"k":false}]'],
    ["after a nested object closes", '{"a":1,"n":{"a":2},"a":3}'],
    ["with an empty name", '{"":1,"":2}'],
  ])("are refused %s (400, one error)", (_label, text) => {
    expect(refusal(text)).toBe(TWICE);
  });

  it.each([
    ["the same name at another depth", '{"a":{"a":{"a":1}}}'],
    ["the same name in sibling objects", '[{"a":1},{"a":2}]'],
    ["names that differ only in case", '{"a":1,"A":2}'],
    ["a name's text inside a string value", '{"a":"\\"a\\":1","b":"a"}'],
    ["a value that is a string followed by a colon-like character", '{"a":["a","a"],"b":"x:"}'],
    ["braces inside string values", '{"a":"{","b":"}","c":"[{\\"a\\":1,\\"a\\":2}]"}'],
  ])("are not confused with %s", (_label, text) => {
    expect(refusal(text)).toBeNull();
  });

  it("are allowed unless the caller asks for the check (JSON.parse keeps the last)", () => {
    expect(parseJsonStrict('{"a":1,"a":2}')).toEqual({ a: 2 });
  });

  it("no JSON.stringify output is refused, and any object made to repeat a name is (property)", () => {
    // Names that reach a prototype are refused for that reason first (below).
    const reserved = /"(__proto__|constructor|prototype)":/;
    const json = fc.jsonValue().filter((v) => !reserved.test(JSON.stringify(v)));
    const name = fc.string().filter((n) => !reserved.test(`${JSON.stringify(n)}:`));
    fc.assert(
      fc.property(json, name, json, (value, name, extra) => {
        const text = JSON.stringify(value);
        expect(refusal(text)).toBeNull();
        const twice = `{${JSON.stringify(name)}:${JSON.stringify(extra)},"k":${text},${JSON.stringify(name)}:null}`;
        expect(refusal(twice)).toBe(TWICE);
      }),
      { numRuns: 300 },
    );
  });
});

describe("other refusals", () => {
  it.each(["__proto__", "constructor", "prototype"])("a property named %s, at any depth", (name) => {
    expect(refusal(`{"${name}":{}}`, false)).toMatch(/^reserved property name/);
    expect(refusal(`{"a":[{"b":{"${name}":1}}]}`, false)).toMatch(/^reserved property name/);
  });

  it.each(["", "{", '{"a":1,}', "{'a':1}", "NaN", '{"a":1} {"b":2}'])("text that is not JSON: %j", (text) => {
    expect(refusal(text)).toBe("body is not valid JSON");
  });
});
