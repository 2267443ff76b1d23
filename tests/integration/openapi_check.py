#!/usr/bin/env python3
"""openapi_check.py — checks captured API answers against an OpenAPI 3.0 file.

    openapi_check.py SPEC.yaml DIR

DIR holds captured exchanges, one per file (any name; files whose name
starts with '.' are ignored).  A file's first line is

    METHOD PATH STATUS CONTENT-TYPE

(PATH as requested, its query string is ignored; CONTENT-TYPE is the
answer's Content-Type header, '-' when it had none) and the rest of the
file, after that first newline, is the answer's body, byte for byte.

For each exchange: the path template that matches PATH (the most literal
one when several do), its operation for METHOD, the response for STATUS
(or NXX, or "default") must be documented.  A method a path item does not
have as an operation is looked up in the path item's `x-other-methods`
(a responses object: what the server answers to the methods it does not
take there).  The content type (without parameters) must be one of the
response's media types, and a JSON body must parse and validate against
the media type's schema, converted from OpenAPI 3.0 to JSON Schema draft 4
(`nullable: true` also allows null; $ref within the document).  A response
without content must come with an empty body.

Prints TAP: one "ok N - METHOD TEMPLATE STATUS" per exchange, "not ok"
with the reason otherwise, then as comments the documented
(path, method, status) never exercised, and "# N checks, F failed".
Exits 1 on any failure, 2 on a usage error.

Standard library plus python3-yaml and python3-jsonschema (Debian 12).
"""
import copy
import json
import os
import re
import sys

import jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# OpenAPI 3.0 keywords JSON Schema draft 4 does not know (or knows otherwise).
OAS_ONLY = ("nullable", "discriminator", "readOnly", "writeOnly", "xml", "externalDocs",
            "example", "deprecated")


FORMATS = jsonschema.FormatChecker(formats=())
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$")


@FORMATS.checks("date-time")
def is_date_time(value):
    return not isinstance(value, str) or bool(RFC3339.match(value))


def convert(s):
    """An OpenAPI 3.0 Schema Object (already $ref-free or not) → JSON Schema draft 4."""
    if isinstance(s, list):
        return [convert(x) for x in s]
    if not isinstance(s, dict):
        return s
    out = {}
    for k, v in s.items():
        if k in OAS_ONLY or k.startswith("x-"):
            continue
        if k == "properties":
            out[k] = {name: convert(sub) for name, sub in v.items()}
        elif k in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
            out[k] = convert(v)
        else:
            out[k] = copy.deepcopy(v)
    if s.get("nullable") is True:
        if "$ref" in out:                       # siblings of $ref are ignored: wrap it
            out = {"anyOf": [{"type": "null"}, {"$ref": out["$ref"]}]}
        elif isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = out["enum"] + [None]
        else:                                   # allOf/oneOf/anyOf or no type at all
            out = {"anyOf": [{"type": "null"}, out]}
    return out


def resolve(doc, obj):
    """Follows a Reference Object ($ref "#/...") within the document."""
    seen = 0
    while isinstance(obj, dict) and "$ref" in obj:
        ref = obj["$ref"]
        if not ref.startswith("#/"):
            raise ValueError("only references within the document are supported: " + ref)
        obj = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            obj = obj[part]
        seen += 1
        if seen > 50:
            raise ValueError("reference loop at " + ref)
    return obj


def template_regex(tpl):
    parts = re.split(r"(\{[^}/]+\})", tpl)
    rx = "".join("[^/]+" if p.startswith("{") and p.endswith("}") else re.escape(p)
                 for p in parts)
    literal = sum(len(p) for p in parts if not p.startswith("{"))
    return re.compile("^" + rx + "$"), literal


def media_base(ct):
    return ct.split(";", 1)[0].strip().lower()


def is_json(mt):
    return mt == "application/json" or mt.endswith("+json")


def media_matches(documented, got):
    d = media_base(documented)
    if d in ("*/*", got):
        return True
    return d.endswith("/*") and got.split("/", 1)[0] == d[:-2]


def status_keys(responses):
    return {str(k).upper(): k for k in responses}


class Checker:
    def __init__(self, spec_path):
        with open(spec_path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        if not isinstance(self.doc, dict) or not str(self.doc.get("openapi", "")).startswith("3.0"):
            raise ValueError("%s: not an OpenAPI 3.0 document" % spec_path)
        # The document converted once: $refs inside schemas resolve against
        # "#/components/..." of the schema's root, which gets these.
        self.components = convert_components(self.doc.get("components", {}))
        self.paths = []
        for tpl, item in (self.doc.get("paths") or {}).items():
            rx, literal = template_regex(tpl)
            self.paths.append((literal, tpl, rx, resolve(self.doc, item)))
        self.paths.sort(key=lambda p: -p[0])
        self.documented = set()
        for _, tpl, _, item in self.paths:
            for m in METHODS:
                if m in item:
                    for st in resolve(self.doc, item[m]).get("responses", {}):
                        self.documented.add((tpl, m.upper(), str(st).upper()))
        self.exercised = set()

    def validator(self, schema):
        root = convert(schema)
        if "$ref" in root:
            root = {"allOf": [root]}
        root["components"] = self.components
        cls = jsonschema.Draft4Validator
        cls.check_schema(root)
        return cls(root, format_checker=FORMATS)

    def check(self, method, path, status, ctype, body):
        """None when the exchange is as documented, else the reason."""
        path = path.split("?", 1)[0].split("#", 1)[0]
        match = next(((tpl, item) for _, tpl, rx, item in self.paths if rx.match(path)), None)
        if not match:
            return None, "undocumented path %s" % path
        tpl, item = match
        name = "%s %s %s" % (method, tpl, status)
        op = item.get(method.lower()) if method.lower() in METHODS else None
        if op is not None:
            responses = resolve(self.doc, op).get("responses", {})
        elif "x-other-methods" in item:
            responses = resolve(self.doc, item["x-other-methods"])
        else:
            return name, "undocumented method %s on %s" % (method, tpl)
        keys = status_keys(responses)
        key = next((k for k in (str(status), str(status)[0] + "XX", "DEFAULT") if k in keys), None)
        if key is None:
            return name, "undocumented status %s for %s %s (documented: %s)" % (
                status, method, tpl, ", ".join(sorted(keys)))
        self.exercised.add((tpl, method, key))
        resp = resolve(self.doc, responses[keys[key]])
        content = resp.get("content") or {}
        if not content:
            if body.strip():
                return name, "a body (%d bytes) where none is documented" % len(body)
            return name, None
        got = media_base(ctype) if ctype not in ("", "-") else ""
        media = next((mt for mt in content if media_matches(mt, got)), None)
        if media is None:
            return name, "content type %r is not documented (documented: %s)" % (
                ctype, ", ".join(content))
        schema = (resolve(self.doc, content[media]) or {}).get("schema")
        if not is_json(got) or schema is None:
            return name, None
        try:
            value = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            return name, "the body is not JSON: %s" % e
        errors = sorted(self.validator(schema).iter_errors(value),
                        key=lambda e: [str(p) for p in e.absolute_path])
        if errors:
            return name, "; ".join("at %s: %s" % (
                "/" + "/".join(str(p) for p in e.absolute_path), short(e)) for e in errors[:5])
        return name, None


def short(e):
    msg = e.message
    if e.context:   # oneOf/anyOf: the branches' own reasons say more
        msg += " [" + " | ".join(sorted({c.message[:160] for c in e.context}))[:600] + "]"
    return msg[:800]


def convert_components(comp):
    out = {}
    for section, entries in comp.items():
        if section == "schemas":
            out[section] = {k: convert(v) for k, v in entries.items()}
        elif isinstance(entries, dict):
            out[section] = copy.deepcopy(entries)
    return out


def read_exchange(path):
    with open(path, "rb") as f:
        data = f.read()
    head, _, body = data.partition(b"\n")
    fields = head.decode("utf-8", "replace").rstrip("\r").split(" ", 3)
    if len(fields) < 3 or not fields[2].isdigit():
        raise ValueError("first line %r is not METHOD PATH STATUS CONTENT-TYPE" % head[:200])
    ctype = fields[3].strip() if len(fields) > 3 else "-"
    return fields[0].upper(), fields[1], int(fields[2]), ctype, body


def main(argv):
    if len(argv) != 3 or not os.path.isdir(argv[2]):
        sys.stderr.write("usage: openapi_check.py SPEC.yaml DIR\n")
        return 2
    try:
        checker = Checker(argv[1])
    except (OSError, ValueError, yaml.YAMLError) as e:
        sys.stderr.write("openapi_check.py: %s\n" % e)
        return 2
    files = sorted(f for f in os.listdir(argv[2])
                   if not f.startswith(".") and os.path.isfile(os.path.join(argv[2], f)))
    n = failed = 0
    for f in files:
        n += 1
        try:
            method, path, status, ctype, body = read_exchange(os.path.join(argv[2], f))
            name, why = checker.check(method, path, status, ctype, body)
            name = name or "%s %s %s" % (method, path.split("?", 1)[0], status)
        except (OSError, ValueError, KeyError, jsonschema.SchemaError) as e:
            name, why = f, "cannot check: %s" % e
        if why is None:
            print("ok %d - %s" % (n, name))
        else:
            failed += 1
            print("not ok %d - %s: %s" % (n, name, why.replace("\n", " ")))
            print("#   file %s" % f)
    never = sorted(checker.documented - checker.exercised)
    if never:
        print("# documented but never exercised (%d of %d):" % (len(never), len(checker.documented)))
        for tpl, m, st in never:
            print("#   %s %s %s" % (m, tpl, st))
    print("# %d checks, %d failed" % (n, failed))
    return 1 if failed or n == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
