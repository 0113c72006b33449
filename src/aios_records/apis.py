"""Every API of the service by its ZStack name: method, path and body key.

Built from the resource definitions plus the fixed session, account,
sharing and tag APIs. The SDK generates one action class per entry, the CLI
completes their names, the OpenAPI document lists them, and a test checks
that the server routes each path.
"""

from __future__ import annotations

from dataclasses import dataclass

from .resources import ACCOUNT, RESOURCES, SYSTEM_TAG, USER_TAG, Resource


@dataclass(frozen=True)
class ApiSpec:
    """One API. `path` may contain `{uuid}` or `{sessionUuid}` placeholders.

    `kind` is query, create, update, delete, action (a body and an empty
    reply), login, logout or validate. `reply` is what the success body holds:
    `inventories`, `inventory`, `empty` or `valid`.
    """

    name: str
    kind: str
    method: str
    path: str
    reply: str
    body_key: str | None = None
    resource: Resource | None = None
    needs_session: bool = True
    admin_only: bool = False


def _resource_apis(resource: Resource) -> list[ApiSpec]:
    specs = [ApiSpec(resource.api_name, "query", "GET", resource.query_path, "inventories",
                     resource=resource)]
    writes = resource.writes
    if writes is None:
        return specs
    admin_only = resource.name == "ModelCenter"
    specs.append(ApiSpec(writes.create_api, "create", "POST", resource.query_path, "inventory",
                         body_key=writes.create_body_keys[0], resource=resource,
                         admin_only=admin_only))
    if writes.update_api is not None:
        specs.append(ApiSpec(writes.update_api, "update", "PUT", f"{writes.update_path}/{{uuid}}",
                             "inventory", body_key=writes.update_body_key, resource=resource,
                             admin_only=admin_only))
    specs.append(ApiSpec(writes.delete_api, "delete", "DELETE",
                         f"{resource.query_path}/{{uuid}}", "empty", resource=resource,
                         admin_only=admin_only))
    return specs


def _build() -> dict[str, ApiSpec]:
    specs = [
        ApiSpec("LogInByAccount", "login", "PUT", "/v1/accounts/login", "inventory",
                body_key="logInByAccount", needs_session=False),
        ApiSpec("LogOut", "logout", "DELETE", "/v1/accounts/sessions/{sessionUuid}", "empty",
                needs_session=False),
        ApiSpec("ValidateSession", "validate", "GET", "/v1/accounts/sessions/{sessionUuid}/valid",
                "valid", needs_session=False),
    ]
    for resource in RESOURCES.values():
        specs.extend(_resource_apis(resource))
    specs.extend([
        ApiSpec(ACCOUNT.api_name, "query", "GET", ACCOUNT.query_path, "inventories",
                resource=ACCOUNT),
        ApiSpec("CreateAccount", "create", "POST", "/v1/accounts", "inventory",
                body_key="params", resource=ACCOUNT, admin_only=True),
        ApiSpec("UpdateAccount", "update", "PUT", "/v1/accounts/{uuid}", "inventory",
                body_key="updateAccount", resource=ACCOUNT),
        ApiSpec("DeleteAccount", "delete", "DELETE", "/v1/accounts/{uuid}", "empty",
                resource=ACCOUNT, admin_only=True),
        ApiSpec("ShareResource", "action", "PUT", "/v1/accounts/resources/actions", "empty",
                body_key="shareResource"),
        ApiSpec("RevokeResourceSharing", "action", "PUT", "/v1/accounts/resources/actions",
                "empty", body_key="revokeResourceSharing"),
        ApiSpec(USER_TAG.api_name, "query", "GET", USER_TAG.query_path, "inventories",
                resource=USER_TAG),
        ApiSpec(SYSTEM_TAG.api_name, "query", "GET", SYSTEM_TAG.query_path, "inventories",
                resource=SYSTEM_TAG),
        ApiSpec("CreateUserTag", "create", "POST", USER_TAG.query_path, "inventory",
                body_key="params", resource=USER_TAG),
        ApiSpec("CreateSystemTag", "create", "POST", SYSTEM_TAG.query_path, "inventory",
                body_key="params", resource=SYSTEM_TAG, admin_only=True),
        ApiSpec("DeleteTag", "delete", "DELETE", "/v1/tags/{uuid}", "empty"),
    ])
    return {spec.name: spec for spec in specs}


API_SPECS: dict[str, ApiSpec] = _build()
