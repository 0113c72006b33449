"""Render replies and errors as indented JSON, compact JSON or a table.

A reply is shown with a `success` key, as zstack-cli prints replies and as
ZStack's API reference lists it among the reply fields, although the REST
reply does not carry it. An error is shown as
`{"error": {...}, "success": false}`. The `schema`
key of query replies names Java classes for the Java SDK and is left out.
"""

from __future__ import annotations

import json

from prompt_toolkit.utils import get_cwidth

from .messages import text

JSON_INDENT = 4


def format_reply(reply: dict, output_format: str) -> str:
    """Return a successful reply as text in `output_format` (json, compact or table)."""
    displayed = {key: value for key, value in reply.items() if key != "schema"}
    if output_format == "table":
        table = _reply_table(displayed)
        if table is not None:
            return table
    displayed["success"] = True
    return _json(displayed, output_format)


def format_error(error: dict, output_format: str) -> str:
    """Return an error object as JSON; a table has no room for it, so `table` gives indented JSON."""
    return _json({"error": error, "success": False}, output_format)


def _json(value: object, output_format: str) -> str:
    if output_format == "compact":
        rendered = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        rendered = json.dumps(value, ensure_ascii=False, indent=JSON_INDENT)
    # json.dumps escapes C0 control characters but not the C1 ones, which
    # some terminals obey as commands; they can only occur inside strings.
    return rendered.translate(_C1_ESCAPES)


def _reply_table(reply: dict) -> str | None:
    """Render query replies as rows and a single inventory as field-value rows; None otherwise."""
    lines: list[str] = []
    if "inventories" in reply:
        inventories = reply["inventories"]
        if inventories:
            lines.append(render_table(inventories))
        else:
            lines.append(text("no_inventories"))
    elif "inventory" in reply and isinstance(reply["inventory"], dict):
        inventory = reply["inventory"]
        rows = [{"field": name, "value": value} for name, value in inventory.items()]
        lines.append(render_table(rows))
    elif "total" not in reply:
        return None
    if "total" in reply:
        lines.append(f"total: {reply['total']}")
    return "\n".join(lines)


def render_table(rows: list[dict]) -> str:
    """Render dictionaries as aligned columns under a header, in first-seen key order.

    Widths count East Asian wide characters as two columns, so Chinese
    names line up in a terminal.
    """
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    names = list(columns)
    cells = [[_cell(row.get(name)) for name in names] for row in rows]
    widths = [max([get_cwidth(name), *(get_cwidth(line[i]) for line in cells)])
              for i, name in enumerate(names)]

    def join(values: list[str]) -> str:
        padded = [value + " " * (width - get_cwidth(value)) for value, width in zip(values, widths)]
        return "  ".join(padded).rstrip()

    output = [join(names), join(["-" * width for width in widths])]
    output.extend(join(line) for line in cells)
    return "\n".join(output)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    # Control characters such as line breaks would break the row apart or
    # move the cursor, so they are shown as escapes.
    return str(value).translate(_CONTROL_ESCAPES)


_C1_ESCAPES = {code: f"\\u{code:04x}" for code in range(0x80, 0xA0)}
_CONTROL_ESCAPES = {code: f"\\x{code:02x}" for code in [*range(0x20), *range(0x7F, 0xA0)]}
_CONTROL_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t"})
