"""The least-privilege policies in docs/ are valid JSON policies naming only actions the code calls."""

from __future__ import annotations

import json
import re
from pathlib import Path

import botocore.session
import pytest

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "docs" / "policies"
CODE_DIRS = ("flows", "pinpoint", "staging", "sources", "report")


def _statements(name):
    doc = json.loads((POLICIES / name).read_text())
    assert doc["Version"] == "2012-10-17"
    assert isinstance(doc["Statement"], list) and doc["Statement"]
    for st in doc["Statement"]:
        assert st["Effect"] in ("Allow", "Deny")
        assert ("Principal" in st) == name.endswith("-trust.json")
        assert "Action" in st
    return doc["Statement"]


def _actions(name, prefix):
    out = set()
    for st in _statements(name):
        if st["Effect"] != "Allow":
            continue
        acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        out |= {a.split(":", 1)[1] for a in acts if a.startswith(prefix + ":")}
    return out


def _pinpoint_calls() -> set[str]:
    model = botocore.session.get_session().get_service_model("pinpoint")
    by_method = {botocore.xform_name(op): op for op in model.operation_names}
    called = set()
    for d in CODE_DIRS:
        for path in (ROOT / d).rglob("*.py"):
            for m in re.finditer(r"pinpoint\.([a-z_]+)\(", path.read_text()):
                if m.group(1) in by_method:
                    called.add(by_method[m.group(1)])
    return called


@pytest.mark.parametrize("name", sorted(p.name for p in POLICIES.glob("*.json")))
def test_every_policy_is_a_valid_policy_document(name):
    _statements(name)


def test_caller_policy_names_exactly_the_pinpoint_actions_the_code_calls():
    called = _pinpoint_calls()
    assert {"CreateImportJob", "GetImportJob", "GetImportJobs", "GetApp"} <= called
    assert _actions("caller-policy.json", "mobiletargeting") == called


def test_trust_policies_are_scoped_to_pinpoint_account_and_application():
    for name in ("import-role-trust.json", "export-role-trust.json"):
        (st,) = _statements(name)
        assert st["Principal"] == {"Service": "pinpoint.amazonaws.com"} and st["Action"] == "sts:AssumeRole"
        assert "aws:SourceAccount" in st["Condition"]["StringEquals"]
        assert st["Condition"]["ArnLike"]["aws:SourceArn"].startswith("arn:aws:mobiletargeting:")


def test_import_role_can_only_read():
    assert _actions("import-role-permissions.json", "s3") == {"ListBucket", "GetObject"}
