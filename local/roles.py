"""Can Pinpoint assume this IAM role, and may the role touch this S3 object?

Reads moto's IAM backend in-process. The trust policy must have an Allow statement for
``sts:AssumeRole`` whose Principal includes the service ``pinpoint.amazonaws.com`` (or ``*``),
and whose conditions hold for the values Pinpoint sends: ``aws:SourceAccount`` (the account),
``aws:SourceArn`` (the application ARN) and ``sts:ExternalId`` (the job's ExternalId, if any).
Condition operators understood: String/Arn Equals/Like (+ ``IfExists``); others never hold.
Permissions are evaluated with moto's policy evaluator over the role's inline and attached
managed policies (AWS-managed policies exist in moto only with MOTO_IAM_LOAD_MANAGED_POLICIES=true).
"""

from __future__ import annotations

import fnmatch
import json
from typing import Any
from urllib.parse import unquote

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition

PINPOINT_PRINCIPAL = "pinpoint.amazonaws.com"


class RoleProblem(Exception):
    """The role can't be used; the message says why."""


def get_role(account_id: str, region: str, role_arn: str) -> Any:
    """The moto Role named by ``role_arn``; RoleProblem if it doesn't exist."""
    iam = iam_backends[account_id][get_partition(region)]
    for role in iam.get_roles():
        if role.arn == role_arn:
            return role
    raise RoleProblem(f"role {role_arn} does not exist")


def check_assumable(role: Any, *, account_id: str, source_arn: str, external_id: str | None) -> None:
    """RoleProblem unless pinpoint.amazonaws.com may assume ``role`` for this application."""
    try:
        doc = json.loads(unquote(role.assume_role_policy_document or "{}"))
    except json.JSONDecodeError:
        raise RoleProblem(f"role {role.arn} has an unreadable trust policy") from None
    context = {"aws:sourceaccount": account_id, "aws:sourcearn": source_arn}
    if external_id:
        context["sts:externalid"] = external_id
    statements = doc.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for st in statements:
        if not (_matches_action(st) and _names_pinpoint(st.get("Principal"))):
            continue
        if not _conditions_hold(st.get("Condition") or {}, context):
            continue
        if st.get("Effect") == "Deny":
            raise RoleProblem(f"the trust policy of role {role.arn} denies {PINPOINT_PRINCIPAL} sts:AssumeRole")
        if st.get("Effect") == "Allow":
            allowed = True
    if not allowed:
        raise RoleProblem(f"the trust policy of role {role.arn} does not allow {PINPOINT_PRINCIPAL} "
                          f"to sts:AssumeRole (for application {source_arn})")


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _matches_action(st: dict) -> bool:
    return any(fnmatch.fnmatchcase("sts:assumerole", a.lower()) for a in _as_list(st.get("Action")))


def _names_pinpoint(principal: Any) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if principal.get("AWS") == "*":
        return True
    return PINPOINT_PRINCIPAL in _as_list(principal.get("Service"))


def _conditions_hold(conditions: dict, context: dict[str, str]) -> bool:
    for operator, checks in conditions.items():
        op = operator.removesuffix("IfExists")
        if_exists = operator.endswith("IfExists")
        for key, expected in (checks or {}).items():
            actual = context.get(key.lower())
            if actual is None:
                if if_exists:
                    continue
                return False
            patterns = [str(v) for v in _as_list(expected)]
            if op in ("StringEquals", "ArnEquals"):
                ok = actual in patterns
            elif op in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(actual, p) for p in patterns)
            elif op == "StringEqualsIgnoreCase":
                ok = actual.lower() in [p.lower() for p in patterns]
            else:
                ok = False
            if not ok:
                return False
    return True


def is_allowed(role: Any, action: str, resource: str) -> bool:
    """Whether the role's policies allow ``action`` on ``resource`` (explicit Deny wins)."""
    permitted = False
    documents = list(role.policies.values()) + list(role.managed_policies.values())
    for document in documents:
        try:
            result = IAMPolicy(document).is_action_permitted(action, resource)
        except (ValueError, KeyError, TypeError, StopIteration):
            continue
        if result == PermissionResult.DENIED:
            return False
        if result == PermissionResult.PERMITTED:
            permitted = True
    return permitted


def require(role: Any, action: str, resource: str) -> None:
    """RoleProblem unless ``role`` may perform ``action`` on ``resource``."""
    if not is_allowed(role, action, resource):
        raise RoleProblem(f"role {role.arn} is not authorized to perform {action} on {resource}")
