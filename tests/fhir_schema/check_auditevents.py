#!/usr/bin/env python3
"""Validates FHIR R4 AuditEvents against HL7's FHIR R4 JSON Schema.

usage: check_auditevents.py SCHEMA FILE...

SCHEMA is tests/data/fhir/schema/fhir-r4-auditevent.schema.json (the
definitions of fhir.schema.json that AuditEvent needs; see README.md there).
Each FILE holds one AuditEvent, or a Bundle whose entries' resources are
AuditEvents (a search result of GET /fhir/AuditEvent). Every AuditEvent is
validated against #/definitions/AuditEvent with a draft-06 validator.

Exit status: 0 when every AuditEvent is valid and there was at least one;
1 when one is invalid (each error printed with its JSON path) or a file
holds something else; 2 on a usage error, or when an AuditEvent reaches a
definition that was not vendored (an extension or a contained resource):
that is reported, never passed silently.
"""
import json
import sys

import jsonschema


def resources(doc, name):
    if doc.get("resourceType") == "Bundle":
        for i, entry in enumerate(doc.get("entry", [])):
            yield f"{name} entry[{i}]", entry.get("resource", {})
    else:
        yield name, doc


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    root = dict(schema)
    root["$ref"] = "#/definitions/AuditEvent"
    jsonschema.Draft6Validator.check_schema(root)
    validator = jsonschema.Draft6Validator(root)
    checked = 0
    invalid = 0
    for path in argv[2:]:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        for where, res in resources(doc, path):
            if res.get("resourceType") != "AuditEvent":
                print(f"{where}: not an AuditEvent ({res.get('resourceType')!r})")
                invalid += 1
                continue
            try:
                errors = sorted(validator.iter_errors(res), key=lambda e: list(e.absolute_path))
            except Exception as e:  # the class differs across jsonschema versions
                if not any(k in type(e).__name__ for k in ("RefResolution", "Referencing", "Unresolvable")):
                    raise
                print(f"{where} ({res.get('id')}): reaches a definition not vendored here "
                      f"({type(e).__name__}: {str(e)[:120]})", file=sys.stderr)
                return 2
            checked += 1
            for e in errors:
                loc = "/".join(str(p) for p in e.absolute_path) or "(root)"
                print(f"{where} ({res.get('id')}): {loc}: {e.message}")
            invalid += bool(errors)
    print(f"{checked} AuditEvent(s) checked against the FHIR R4 JSON Schema, {invalid} invalid")
    if checked == 0:
        return 1
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
