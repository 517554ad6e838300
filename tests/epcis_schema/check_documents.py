#!/usr/bin/env python3
"""Checks the EPCIS example documents against GS1's EPCIS 2.0 JSON Schema.

usage: check_documents.py SHARED_EPCIS_DIR PROJECT_EPCIS_DIR

SHARED_EPCIS_DIR is ../shared/data/epcis (the schema and the gs1/EPCIS
examples, which have no explicit licence and are not committed here);
PROJECT_EPCIS_DIR is tests/data/epcis (the openly licensed copies). The
documents that src/epcis/examples_test.cc parses must be valid, and the
OpenEPCIS documents under invalid/ must not be: the same verdicts as the
structural validation in code, from the standard's own schema. The schema's
"date-time" format (RFC 3339) is checked too: this jsonschema's format
checker leaves it out unless rfc3339-validator is installed.

Exit status: 0 when every verdict is as expected; 1 otherwise (each
unexpected verdict printed with its JSON path); 77 (CTest: skipped) when
SHARED_EPCIS_DIR is absent.
"""
import datetime
import json
import pathlib
import re
import sys

# Documents that examples_test.cc refuses although the schema accepts them:
# the schema cannot see a GS1 check digit or a JSON-LD context redefinition.
SCHEMA_VALID_REFUSED_IN_CODE = {
    "Combination_of_different_event.json",  # a GRAI with a wrong check digit
    "transformation_event_all_possible_fields.jsonld",  # redefines the protected cbvmda prefix
}

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def is_date_time(value):
    if not isinstance(value, str):
        return True
    if not RFC3339.match(value):
        return False
    try:
        datetime.datetime.fromisoformat(re.sub(r"\.\d+", "", value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    shared, project = pathlib.Path(argv[1]), pathlib.Path(argv[2])
    schema_path = shared / "gs1-epcis" / "standard-artefacts" / "EPCIS-JSON-Schema.json"
    if not schema_path.exists():
        print(f"skipped: {schema_path} is absent")
        return 77
    import jsonschema

    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    checker = jsonschema.FormatChecker()
    if "date-time" not in checker.checkers:
        checker.checks("date-time")(is_date_time)
    validator = jsonschema.Draft7Validator(schema, format_checker=checker)

    valid = sorted((shared / "gs1-epcis").rglob("*.jsonld"))
    valid = [p for p in valid if "standard-artefacts" not in p.parts]
    valid += sorted((project / "openepcis" / "capture-documents").glob("*.json"))
    valid += sorted((project / "openepcis" / "capture-bare-events").glob("*.json"))
    valid += sorted((project / "gs1-egypt-healthcare").glob("GS1_*.json"))
    valid += sorted((project / "event-hash-vectors").glob("*.jsonld"))
    invalid = sorted((project / "openepcis" / "invalid").glob("*.json"))

    wrong = 0
    for path, expect_valid in [(p, True) for p in valid] + [(p, False) for p in invalid]:
        doc = json.loads(path.read_text(encoding="utf-8"))
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if expect_valid and errors:
            wrong += 1
            for e in errors:
                loc = "/".join(str(p) for p in e.absolute_path) or "(root)"
                print(f"{path.name}: {loc}: {e.message[:200]}")
        elif not expect_valid and not errors:
            wrong += 1
            print(f"{path.name}: the schema accepts a document that should be invalid")
    print(f"{len(valid)} valid and {len(invalid)} invalid EPCIS documents checked against the EPCIS 2.0 JSON "
          f"Schema, {wrong} unexpected verdict(s); schema-valid but refused in code: "
          f"{', '.join(sorted(SCHEMA_VALID_REFUSED_IN_CODE))}")
    if not valid or not invalid:
        return 1
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
