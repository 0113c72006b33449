"""Help text of the shell: the API list and the parameters of one API, from the registry."""

from __future__ import annotations

from ..apis import API_SPECS, ApiSpec
from ..resources import QUERY_RESOURCES, TAG_FIELDS
from ..sdk.parameters import PASSWORD_FIELDS, parameter_type
from ..sdk.transport import path_parameters
from . import catalog
from .messages import text

_SESSION_KINDS = ("login", "logout", "validate")


def general_help() -> str:
    """Return the shell help: syntax, shell commands and every API by group."""
    groups = {
        text("help_session_apis"): [s for s in API_SPECS.values() if s.kind in _SESSION_KINDS],
        text("help_query_apis"): [s for s in API_SPECS.values() if s.kind == "query"],
        text("help_write_apis"): [s for s in API_SPECS.values()
                                  if s.kind not in (*_SESSION_KINDS, "query")],
    }
    lines = [text("shell_help").rstrip(), "", text("help_apis")]
    for title, specs in groups.items():
        lines.append(f"  {title}:")
        lines.extend(_wrap([spec.name for spec in specs], indent="    "))
    return "\n".join(lines)


def api_help(spec: ApiSpec) -> str:
    """Return the help of one API: its route, then its fields and options or its parameters."""
    header = f"{spec.name}  ({spec.method} {spec.path})"
    if spec.admin_only:
        header += f"  [{text('help_admin_only')}]"
    lines = [header, ""]
    resource = catalog.query_resource(spec)
    if resource is not None:
        lines.extend(_query_help(resource))
    else:
        lines.extend(_parameter_help(spec))
    return "\n".join(lines)


def _query_help(resource) -> list[str]:
    lines = [text("help_fields")]
    width = max(len(name) for name in resource.field_names)
    for name in resource.field_names:
        type_name = catalog.field_type_name(resource, name)
        choices = catalog.condition_values(resource, name)
        suffix = f"  {text('help_choices')}: {', '.join(choices)}" if choices else ""
        lines.append(f"  {name:<{width}}  {type_name}{suffix}")

    if resource.expansions:
        example = f"{resource.expansions[0].name}.uuid=..."
        lines.extend(["", text("help_expansions", example=example)])
        width = max(len(expansion.name) for expansion in resource.expansions)
        for expansion in resource.expansions:
            target = QUERY_RESOURCES[expansion.target]
            lines.append(f"  {expansion.name:<{width}}  -> {target.name} "
                         f"({expansion.local_field} = {target.name}.{expansion.remote_field})")

    lines.extend(["", text("help_tag_fields"), f"  {', '.join(TAG_FIELDS)}"])
    lines.extend(["", text("help_options"),
                  "  limit=N  start=N  count=true  replyWithCount=true",
                  "  sortBy=FIELD  sortDirection=asc|desc  fields=FIELD,FIELD..."])
    return lines


def _parameter_help(spec: ApiSpec) -> list[str]:
    names = catalog.write_parameters(spec)
    if not names:
        return [text("help_no_parameters")]
    required = set(catalog.required_parameters(spec))
    width = max(len(name) for name in names)
    lines = [text("help_parameters")]
    for name in names:
        kind = parameter_type(spec, name)
        notes = []
        if kind == "list":
            notes.append(text("help_list"))
        choices = catalog.parameter_values(spec, name)
        if choices and kind != "boolean":
            notes.append(f"{text('help_choices')}: {', '.join(choices)}")
        if name in PASSWORD_FIELDS:
            notes.append(text("help_password"))
        if name == catalog.SESSION_PATH_PARAMETER and name in path_parameters(spec):
            notes.append(text("help_session_default"))
        mark = "*" if name in required else " "
        suffix = f"  ({'; '.join(notes)})" if notes else ""
        lines.append(f"  {mark} {name:<{width}}  {kind}{suffix}")
    return lines


def _wrap(words: list[str], indent: str, width: int = 78) -> list[str]:
    lines: list[str] = []
    current = indent
    for word in words:
        if current.strip() and len(current) + 2 + len(word) > width:
            lines.append(current.rstrip(", "))
            current = indent
        current += word + ", "
    if current.strip():
        lines.append(current.rstrip(", "))
    return lines
