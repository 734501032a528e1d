"""``apiward audit``: a security audit of API documents against the OWASP API Top 10."""

from apiward.audit import rules as _builtin_rules  # noqa: F401 - registers the built-in rules
from apiward.audit.engine import audit
from apiward.audit.options import AuditConfig
from apiward.audit.result import AuditResult
from apiward.audit.rule import RULES, Hit, Rule, rule

__all__ = ["RULES", "AuditConfig", "AuditResult", "Hit", "Rule", "audit", "rule"]
