"""Which queue a ticket goes to: the most specific routing rule matching its topic and place,
else the national queue. A rule naming the topic beats one for any topic (so reports of data
uses reach the auditors' queue, made by the migration, wherever the citizen lives); among
those, a ward beats a province beats anywhere."""

from __future__ import annotations

from sqlalchemy.orm import Session

from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.errors import Invalid
from civicstack.registry import service as registry
from civicstack.support import repository
from civicstack.support.models import SupportQueue, SupportRoutingRule
from civicstack.support.states import Topic

NATIONAL_QUEUE, AUDITORS_QUEUE = "national", "auditors"
QUEUE_PERMISSIONS = (Permission.SUPPORT_HANDLE, Permission.AUDIT_READ)


def route(session: Session, topic: str, province_code: str,
          ward_code: str | None) -> SupportQueue:
    rules = repository.rules_for(session, topic, province_code, ward_code)
    if not rules:
        found = repository.queue_by_code(session, NATIONAL_QUEUE)
        assert found is not None, "the migration makes the national queue"
        return found
    best = max(rules, key=_specificity)
    return repository.queue(session, best.queue_id)


def _specificity(rule: SupportRoutingRule) -> tuple[int, int, int]:
    place = 2 if rule.ward_code else 1 if rule.province_code else 0
    return 1 if rule.topic else 0, place, -rule.id


def save_queue(session: Session, actor: Actor, code: str, name: str, permission: Permission,
               lead_contact: str, *, province_code: str | None = None,
               ward_code: str | None = None) -> SupportQueue:
    """Add or update a queue (by code); its place is checked against the register's units."""
    actor.require(Permission.SUPPORT_HANDLE)
    if permission not in QUEUE_PERMISSIONS:
        raise Invalid("permission", "a queue is worked by support agents or auditors")
    scope = registry.scope_for(session, province_code=None if ward_code else province_code,
                               ward_code=ward_code)
    found = repository.queue_by_code(session, code) or SupportQueue(code=code)
    found.name, found.permission, found.lead_contact = name, permission.value, lead_contact
    found.province_code, found.ward_code = scope.province_code, scope.ward_code
    session.add(found)
    session.flush()
    audit.record(session, actor, "support.queue.save", subject_type="support_queue",
                 subject_id=code, purpose="support routing",
                 detail={"permission": permission.value, "scope": str(scope)})
    return found


def save_rule(session: Session, actor: Actor, queue_code: str, *, topic: str | None = None,
              province_code: str | None = None,
              ward_code: str | None = None) -> SupportRoutingRule:
    """Send tickets of this topic (None: any) and place (None: anywhere) to a queue."""
    actor.require(Permission.SUPPORT_HANDLE)
    if topic is not None and topic not in set(Topic):
        raise Invalid("topic", "unknown topic")
    target = repository.queue_by_code(session, queue_code)
    if target is None:
        raise Invalid("queue", "no queue with this code")
    scope = registry.scope_for(session, province_code=None if ward_code else province_code,
                               ward_code=ward_code)
    found = repository.rule(session, topic, scope.province_code, scope.ward_code) or \
        SupportRoutingRule(topic=topic, province_code=scope.province_code,
                           ward_code=scope.ward_code)
    found.queue_id = target.id
    session.add(found)
    session.flush()
    audit.record(session, actor, "support.rule.save", subject_type="support_queue",
                 subject_id=queue_code, purpose="support routing",
                 detail={"topic": topic, "scope": str(scope)})
    return found
