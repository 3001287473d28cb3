"""What moto 5.2 lacks for the Terraform stack, added to an in-process moto server.

- Lake Formation: Terraform reads a grant back with ``ListPermissions`` filtered by the
  grant's own resource. Moto answers that filter for catalogs, databases, tables and data
  locations but refuses an LF-tag policy ("Resource must have either the catalog, table or
  database field populated"). It compares resources as sent, so a revoke that names the
  catalog id the grant left implicit, or the tag terms in another order, revokes nothing.
  Revoking what is not granted succeeds, where the service answers InvalidInputException
  (Terraform's destroy revokes twice and takes that answer as "gone"). Its grants are one
  set that concurrent requests (Terraform sends them in parallel) change while another
  iterates it; here they take turns.
- S3 bucket policies: moto evaluates statements without their ``Condition``, so the lake's
  "deny unless TLS" statement would deny every object request. Requests to the local
  endpoint are treated as made over TLS, as every request to AWS is.
- S3 delete markers: deleting one version of a key while a delete marker is still listed
  under it calls ``dispose()`` on the marker, which has none (``AttributeError``), so a
  versioned bucket's ``force_destroy`` retries until it times out. A marker holds no
  buffer; disposing of it does nothing.

``python -m etl_service.tests.support.moto_gaps --port N`` serves a moto server with the
gaps filled in a process of its own, so its state is shared with no other server: moto
keeps every in-process server's state in one set of module-level backends.

The real services do all of this; the patches do the same and nothing more.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_ABSENT = object()
_INSECURE_TRANSPORT = {"Bool": {"aws:SecureTransport": "false"}}
_GRANT_CALLS = (
    "grant_permissions",
    "revoke_permissions",
    "batch_grant_permissions",
    "batch_revoke_permissions",
)


def _policy(resource: dict[str, Any]) -> tuple[str, frozenset[tuple[str, frozenset[str]]]]:
    policy = resource["LFTagPolicy"]
    expression = frozenset(
        (term["TagKey"], frozenset(term["TagValues"])) for term in policy["Expression"]
    )
    return policy["ResourceType"], expression


def _without_catalog_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_catalog_ids(v) for k, v in value.items() if k != "CatalogId"}
    if isinstance(value, list):
        return [_without_catalog_ids(v) for v in value]
    return value


def _canonical(resource: dict[str, Any]) -> Any:
    """A resource as Lake Formation compares it: catalog ids implied, tag terms unordered."""
    if "LFTagPolicy" in resource:
        return _policy(resource)
    return _without_catalog_ids(resource)


def _same_principal_and_resource(self: Any, other: Any) -> bool:
    return bool(
        self.principal == other.principal
        and _canonical(self.resource) == _canonical(other.resource)
    )


def _list_permissions(original: Callable[[Any], str]) -> Callable[[Any], str]:
    def list_permissions(self: Any) -> str:
        resource = self._get_param("Resource") or {}
        if "LFTagPolicy" not in resource:
            return original(self)
        catalog_id = self._get_param("CatalogId") or self.current_account
        principal = self._get_param("Principal")
        catalog = self.lakeformation_backend.grants.get(catalog_id)
        found = [
            permission.to_external_form()
            for permission in (catalog.permissions if catalog else ())
            if "LFTagPolicy" in permission.resource
            and _policy(permission.resource) == _policy(resource)
            and (principal is None or permission.principal == principal)
        ]
        return json.dumps({"PrincipalResourcePermissions": found})

    return list_permissions


def _held(self: Any, principal: Any, resource: dict[str, Any]) -> list[Any]:
    catalog_id = self._get_param("CatalogId") or self.current_account
    catalog = self.lakeformation_backend.grants.get(catalog_id)
    return [
        permission
        for permission in (catalog.permissions if catalog else ())
        if permission.principal == principal
        and _canonical(permission.resource) == _canonical(resource)
    ]


def _revoke_only_what_is_held(original: Callable[[Any], str]) -> Callable[[Any], str]:
    from moto.lakeformation.exceptions import InvalidInput

    def revoke_permissions(self: Any) -> str:
        if not _held(self, self._get_param("Principal"), self._get_param("Resource") or {}):
            raise InvalidInput(
                "No permissions revoked. Grantee has no permissions and no grantable "
                "permissions on resource."
            )
        return original(self)

    return revoke_permissions


def _over_tls(policy: bytes) -> str:
    document = json.loads(policy)
    document["Statement"] = [
        s for s in document["Statement"] if s.get("Condition") != _INSECURE_TRANSPORT
    ]
    return json.dumps(document)


def _one_at_a_time(call: Callable[[Any], str], lock: threading.RLock) -> Callable[[Any], str]:
    def serialised(self: Any) -> str:
        with lock:
            return call(self)

    return serialised


@contextmanager
def moto_gaps_filled() -> Iterator[None]:
    """For the block: moto's Lake Formation lists by LF-tag policy, ignores catalog ids
    and tag order, refuses to revoke what is not granted and takes grant calls one at a
    time; S3 takes requests as made over TLS."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.lakeformation.models import Permission
    from moto.lakeformation.responses import LakeFormationResponse
    from moto.s3.models import FakeBucket, FakeDeleteMarker

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        return IAMPolicy(_over_tls(self.policy)).is_action_permitted(action, resource)

    lock = threading.RLock()
    patches: dict[tuple[type, str], Any] = {
        (Permission, "equal_principal_and_resouce"): _same_principal_and_resource,
        (FakeBucket, "get_permission"): get_permission,
        (FakeDeleteMarker, "dispose"): lambda self: None,
        (LakeFormationResponse, "list_permissions"): _one_at_a_time(
            _list_permissions(LakeFormationResponse.list_permissions), lock
        ),
    }
    for name in _GRANT_CALLS:
        patches[LakeFormationResponse, name] = _one_at_a_time(
            getattr(LakeFormationResponse, name), lock
        )
    patches[LakeFormationResponse, "revoke_permissions"] = _one_at_a_time(
        _revoke_only_what_is_held(LakeFormationResponse.revoke_permissions), lock
    )
    saved = {key: key[0].__dict__.get(key[1], _ABSENT) for key in patches}
    for (owner, name), value in patches.items():
        setattr(owner, name, value)
    try:
        yield
    finally:
        for (owner, name), value in saved.items():
            if value is _ABSENT:
                delattr(owner, name)
            else:
                setattr(owner, name, value)


def serve(port: int) -> None:
    """Serve moto on 127.0.0.1:port with the gaps filled until SIGTERM or SIGINT."""
    from moto.server import ThreadedMotoServer

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with moto_gaps_filled():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            stop.wait()
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=serve.__doc__)
    parser.add_argument("--port", type=int, required=True)
    serve(parser.parse_args().port)
