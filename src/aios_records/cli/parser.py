"""Turn a command line into a shell command or the arguments of one SDK call.

Words are split at spaces and tabs. Single quotes keep everything between
them literally. Inside double quotes a backslash escapes `"` and `\\` only.
Outside quotes a backslash is an ordinary character, so LIKE patterns such
as `name~=50\\%` are typed as the server reads them.

A query API takes conditions (`modelUuid=...`, `createDate>2025-01-01`,
`sourceModelUuid is null`) and the options `limit`, `start`, `count`,
`replyWithCount`, `sortBy`, `sortDirection` and `fields`. Any other API
takes `name=value` parameters, and a list parameter is comma-separated
(`userTags=a,b`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..apis import ApiSpec
from ..sdk.actions import query_parameters, request_body
from ..sdk.conditions import read_as_server
from ..sdk.parameters import parameter_type
from ..sdk.transport import path_parameters
from . import catalog
from .messages import UsageError

_FIELD_PATH = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*")
_INTEGER = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class Word:
    """One word of a command line: its text after quote removal and where it sits in the line.

    `open_quote` is the quote character left open at the end of the line,
    or "" when every quote is closed.
    """

    text: str
    start: int
    end: int
    open_quote: str = ""


def split_words(line: str, strict: bool = True) -> list[Word]:
    """Split a command line into words (see the module docstring for the quoting rules).

    With `strict`, an unterminated quote raises UsageError. Without it, the
    last word runs to the end of the line, which is what completion needs.
    """
    words: list[Word] = []
    position = 0
    length = len(line)
    while position < length:
        if line[position] in " \t\r\n":
            position += 1
            continue
        start = position
        text: list[str] = []
        quote = ""
        while position < length:
            char = line[position]
            if quote == "'":
                if char == "'":
                    quote = ""
                else:
                    text.append(char)
            elif quote == '"':
                if char == "\\" and position + 1 < length and line[position + 1] in '"\\':
                    position += 1
                    text.append(line[position])
                elif char == '"':
                    quote = ""
                else:
                    text.append(char)
            elif char in " \t\r\n":
                break
            elif char in "'\"":
                quote = char
            else:
                text.append(char)
            position += 1
        if quote and strict:
            raise UsageError("unterminated_quote", quote=quote)
        words.append(Word("".join(text), start, position, quote))
    return words


@dataclass(frozen=True)
class ShellCommand:
    """A command of the shell itself: help, output, exit or quit."""

    name: str
    arguments: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApiCall:
    """The arguments of one `Client.call`, plus the session given on the command line."""

    api: str
    path_params: dict[str, object] = field(default_factory=dict)
    body: dict | None = None
    params: list[tuple[str, object]] = field(default_factory=list)
    session_id: str | None = None


@dataclass
class ApiCommand:
    """An API name with its parameter values, keyed by the SDK's action parameter names."""

    spec: ApiSpec
    values: dict[str, object] = field(default_factory=dict)

    def to_call(self) -> ApiCall:
        path = {name: self.values[name] for name in path_parameters(self.spec)
                if self.values.get(name) is not None}
        return ApiCall(
            api=self.spec.name,
            path_params=path,
            body=request_body(self.spec, self.values),
            params=query_parameters(self.spec, self.values),
            session_id=self.values.get(catalog.SESSION_PARAMETER),
        )


Command = ShellCommand | ApiCommand


def parse_line(line: str) -> Command | None:
    """Parse one line; return None for a blank line or a `#` comment."""
    words = [word.text for word in split_words(line)]
    if not words or words[0].startswith("#"):
        return None
    return parse_words(words)


def parse_words(words: Sequence[str]) -> Command:
    """Parse a command already split into words, such as the arguments of `aios-cli`."""
    name, arguments = words[0], list(words[1:])
    if name in catalog.SHELL_COMMANDS:
        return ShellCommand(name, tuple(arguments))
    spec = catalog.api_spec(name)
    if spec is None:
        suggestion = _suggestion(name)
        if suggestion.lower() == name.lower():
            raise UsageError("unknown_command_case", command=name, suggestion=suggestion)
        if suggestion:
            raise UsageError("unknown_command_hint", command=name, suggestion=suggestion)
        raise UsageError("unknown_command", command=name)
    _reject_options(spec, arguments)
    if spec.kind == "query":
        return ApiCommand(spec, _query_values(spec, arguments))
    return ApiCommand(spec, _write_values(spec, arguments))


def parse_call(line: str) -> ApiCall:
    """Parse a line that must be an API call and return the SDK call it makes."""
    command = parse_line(line)
    if not isinstance(command, ApiCommand):
        raise ValueError(f"{line!r} is not an API call")
    return command.to_call()


def _reject_options(spec: ApiSpec, arguments: list[str]) -> None:
    """Raise a usage error for an aios-cli option typed after the API name.

    Read as a condition, `--output` would be rejected for having no operator,
    which does not tell the user what is wrong.
    """
    for index, word in enumerate(arguments):
        option, separator, _ = word.partition("=")
        if option not in catalog.CLI_OPTIONS:
            continue
        example = word
        following = arguments[index + 1:index + 2]
        if not separator and option in catalog.CLI_VALUE_OPTIONS and following:
            example = f"{word} {following[0]}"
        key = "option_after_api"
        if option in ("--help", "-h"):
            key = "help_after_api"
        elif option == "--output":
            key = "option_after_api_output"
        raise UsageError(key, option=option, api=spec.name, example=example)


def _suggestion(name: str) -> str:
    candidates = [*catalog.api_names(), *catalog.SHELL_COMMANDS]
    for candidate in candidates:
        if candidate.lower() == name.lower():
            return candidate
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.7)
    return close[0] if close else ""


# -- query APIs -------------------------------------------------------------------


def _query_values(spec: ApiSpec, arguments: list[str]) -> dict[str, object]:
    values: dict[str, object] = {}
    conditions: list[str] = []
    index = 0
    while index < len(arguments):
        word = arguments[index]
        index += 1
        name, separator, value = word.partition("=")
        if separator and name in catalog.QUERY_OPTIONS:
            _set_once(values, spec, name, _query_option(spec, name, value))
            continue
        if separator and name == catalog.SESSION_PARAMETER:
            _set_once(values, spec, name, value)
            continue
        # `field is null` and `field not null` typed as three words.
        following = arguments[index:index + 2]
        if read_as_server(word) is None and len(following) == 2 and following[1] == "null" \
                and following[0] in ("is", "not"):
            word = f"{word} {following[0]} null"
            index += 2
        conditions.append(_checked_condition(word))

    if "sortDirection" in values and "sortBy" not in values:
        raise UsageError("direction_without_sort")
    values["conditions"] = conditions
    return values


def _query_option(spec: ApiSpec, name: str, value: str) -> object:
    kind = parameter_type(spec, name)
    if kind == "integer":
        return _integer(name, value)
    if kind == "boolean":
        return _boolean(name, value) or None
    if name == "sortDirection":
        direction = value.lower()
        if direction not in catalog.SORT_DIRECTIONS:
            raise UsageError("bad_direction", value=value)
        return direction
    if name == "sortBy":
        if not value or value[0] in "+-":
            raise UsageError("bad_sort_by", value=value)
        return value
    return value


def _checked_condition(text: str) -> str:
    """Return a condition as typed, after checking that the server reads it as written."""
    reading = read_as_server(text)
    if reading is None:
        raise UsageError("no_operator", condition=text,
                         operators=", ".join([*catalog.COMPARISON_OPERATORS,
                                              *catalog.NULL_OPERATORS]))
    field_path, operator, _ = reading
    if not field_path:
        raise UsageError("no_field", condition=text, operator=operator)
    if not _FIELD_PATH.fullmatch(field_path):
        raise UsageError("operator_in_value", condition=text, field=field_path,
                         operator=operator)
    return text


# -- other APIs -------------------------------------------------------------------


def _write_values(spec: ApiSpec, arguments: list[str]) -> dict[str, object]:
    accepted = catalog.write_parameters(spec)
    values: dict[str, object] = {}
    for word in arguments:
        name, separator, value = word.partition("=")
        if not separator or not name:
            raise UsageError("not_a_parameter", word=word, api=spec.name)
        if name == catalog.SESSION_PARAMETER and spec.needs_session:
            _set_once(values, spec, name, value)
            continue
        if name not in accepted:
            raise UsageError("unknown_parameter", name=name, api=spec.name,
                             parameters=", ".join(accepted))
        _set_once(values, spec, name, _typed_parameter(spec, name, value))

    for name in path_parameters(spec):
        if name != catalog.SESSION_PATH_PARAMETER and not values.get(name):
            raise UsageError("missing_parameter", name=name, api=spec.name)
    return values


def _typed_parameter(spec: ApiSpec, name: str, value: str) -> object:
    kind = parameter_type(spec, name)
    if kind == "integer":
        return _integer(name, value)
    if kind == "boolean":
        return _boolean(name, value)
    if kind == "list":
        return value.split(",") if value else []
    return value


def _set_once(values: dict[str, object], spec: ApiSpec, name: str, value: object) -> None:
    if name in values:
        raise UsageError("duplicate_parameter", name=name, api=spec.name)
    values[name] = value


def _integer(name: str, value: str) -> int:
    if not value.isascii() or not _INTEGER.fullmatch(value):
        raise UsageError("not_integer", name=name, value=value)
    return int(value)


def _boolean(name: str, value: str) -> bool:
    lowered = value.lower()
    if lowered not in catalog.BOOLEAN_VALUES:
        raise UsageError("not_boolean", name=name, value=value)
    return lowered == "true"
