"""How the broker's authorizer reads a set of grants, for the ACL tests (no broker)."""

from __future__ import annotations

from gateway.kafka.acls import AclGrant


def allowed(grants: tuple[AclGrant, ...], principal: str, resource: str, name: str, operation: str) -> bool:
    """Whether the grants let ``principal`` do ``operation`` on ``name`` (READ/WRITE imply DESCRIBE, as in Kafka)."""
    implied = {"DESCRIBE": {"DESCRIBE", "READ", "WRITE"}}.get(operation, {operation})
    return any(
        g.principal == principal
        and g.resource == resource
        and g.operation in implied
        and (name == g.name if g.pattern == "LITERAL" else name.startswith(g.name))
        for g in grants
    )
