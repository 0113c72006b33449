"""Tab completion from the API registry and the resource definitions.

The first word completes to API names (a case-sensitive prefix, as in
zstack-cli) and shell commands. After a query API, a word completes to
fields as `field=`, expansions as `expansion.` and tag fields. After an
expansion it completes to the target's fields and expansions, so chains
work. A complete field name is followed by the operators. Query options
complete too, and so do the values of `sortBy=`, `sortDirection=`,
`fields=`, booleans and fields with fixed choices. After any other API a
word completes to its parameters as `name=`, and to the values of
parameters with fixed choices.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from ..apis import ApiSpec
from ..resources import QUERY_RESOURCES, TAG_FIELDS, Resource
from . import catalog
from .parser import Word, split_words


class CommandCompleter(Completer):
    """Completes aios-cli command lines; see the module docstring for what it offers."""

    def get_completions(self, document: Document,
                        complete_event: CompleteEvent) -> Iterator[Completion]:
        line = document.text_before_cursor
        words = split_words(line, strict=False)
        # The word under the cursor is empty after a space, else the last word.
        if not words or words[-1].end < len(line):
            current = Word("", len(line), len(line))
            previous = words
        else:
            current = words[-1]
            previous = words[:-1]
        raw_word = line[current.start:]
        if "'" in raw_word or '"' in raw_word:
            # Replacement offsets count the typed characters, quotes included,
            # and a completion would have to re-quote the text.
            return

        if not previous:
            yield from _commands(current.text)
            return
        command = previous[0].text
        if command == "help" and len(previous) == 1:
            yield from _matching(current.text, catalog.api_names(), meta="API")
            return
        if command == "output" and len(previous) == 1:
            yield from _matching(current.text, catalog.OUTPUT_FORMATS)
            return
        spec = catalog.api_spec(command)
        if spec is None:
            return
        used_names = {word.text.partition("=")[0] for word in previous[1:]}
        resource = catalog.query_resource(spec)
        if resource is not None:
            yield from _query_argument(resource, current.text, used_names)
        else:
            yield from _write_argument(spec, current.text, used_names)


def _commands(prefix: str) -> Iterator[Completion]:
    for name in catalog.api_names():
        if name.startswith(prefix):
            yield Completion(name + " ", -len(prefix), display=name,
                             display_meta=catalog.api_spec(name).kind)
    for name in catalog.SHELL_COMMANDS:
        if name.startswith(prefix):
            yield Completion(name + " ", -len(prefix), display=name, display_meta="shell")


def _matching(prefix: str, names: Iterable[str], meta: str = "") -> Iterator[Completion]:
    for name in names:
        if name.startswith(prefix):
            yield Completion(name, -len(prefix), display_meta=meta)


# -- query APIs -------------------------------------------------------------------


def _query_argument(resource: Resource, word: str, used_names: set[str]) -> Iterator[Completion]:
    path_length = _path_length(word)
    path, rest = word[:path_length], word[path_length:]
    if not rest:
        yield from _field_paths(resource, path, used_names)
        return

    operator = _leading_operator(rest)
    # Longer operators that start with what is typed: `modelUuid!` -> `!=`, `!?=`, `!~=`.
    for candidate in catalog.COMPARISON_OPERATORS:
        if candidate.startswith(rest) and candidate != operator:
            yield Completion(path + candidate, -len(word), display=candidate,
                             display_meta="operator")
    if operator is None:
        return

    value = rest[len(operator):]
    if path in catalog.QUERY_OPTIONS and operator == "=":
        yield from _option_values(resource, path, value)
        return
    *expansions, name = path.split(".")
    target = catalog.follow_expansions(resource, expansions)
    if target is not None and operator in ("=", "!=", "?=", "!?="):
        # After `?=` only the last comma-separated item is completed.
        item = value.rpartition(",")[2] if operator in ("?=", "!?=") else value
        yield from _matching(item, catalog.condition_values(target, name), meta="value")


def _field_paths(resource: Resource, path: str, used_names: set[str]) -> Iterator[Completion]:
    """Offer `field=`, `expansion.` and options for a partial field path."""
    *expansions, prefix = path.split(".")
    target = catalog.follow_expansions(resource, expansions)
    if target is None:
        return
    lead = "".join(f"{name}." for name in expansions)
    offered: list[Completion] = []

    exact_field = prefix in target.field_names or prefix in TAG_FIELDS
    if exact_field:
        offered.extend(_operators(lead + prefix))
    for name in target.field_names:
        if name.startswith(prefix):
            offered.append(Completion(f"{lead}{name}=", -len(path), display=f"{name}=",
                                      display_meta=catalog.field_type_name(target, name)))
    for expansion in target.expansions:
        if expansion.name.startswith(prefix):
            offered.append(Completion(f"{lead}{expansion.name}.", -len(path),
                                      display=f"{expansion.name}.",
                                      display_meta=f"-> {QUERY_RESOURCES[expansion.target].name}"))
    for name in TAG_FIELDS:
        if name.startswith(prefix):
            offered.append(Completion(f"{lead}{name}=", -len(path), display=f"{name}=",
                                      display_meta="tag"))
    if not expansions:
        for name in catalog.QUERY_OPTIONS:
            if name.startswith(prefix) and name not in used_names:
                offered.append(Completion(f"{name}=", -len(path), display=f"{name}=",
                                          display_meta="option"))
    yield from _unique(offered)


def _operators(field_path: str) -> Iterator[Completion]:
    for operator in catalog.COMPARISON_OPERATORS:
        yield Completion(field_path + operator, -len(field_path), display=operator,
                         display_meta="operator")
    for operator in catalog.NULL_OPERATORS:
        yield Completion(f"{field_path} {operator} ", -len(field_path), display=operator,
                         display_meta="operator")


def _option_values(resource: Resource, option: str, value: str) -> Iterator[Completion]:
    if option == "sortBy":
        yield from _matching(value, resource.field_names, meta="field")
    elif option == "sortDirection":
        yield from _matching(value, catalog.SORT_DIRECTIONS)
    elif option in ("count", "replyWithCount"):
        yield from _matching(value, catalog.BOOLEAN_VALUES)
    elif option == "fields":
        chosen, _, item = value.rpartition(",")
        chosen_fields = set(chosen.split(","))
        yield from _matching(item, [name for name in resource.field_names
                                    if name not in chosen_fields],
                             meta="field")


def _path_length(word: str) -> int:
    """Return the length of the field path at the start of `word` (letters, digits, _ and .)."""
    for index, char in enumerate(word):
        if not (char.isascii() and (char.isalnum() or char in "_.")):
            return index
    return len(word)


def _leading_operator(text: str) -> str | None:
    """Return the longest comparison operator that `text` starts with."""
    matches = [op for op in catalog.COMPARISON_OPERATORS if text.startswith(op)]
    return max(matches, key=len) if matches else None


# -- other APIs -------------------------------------------------------------------


def _write_argument(spec: ApiSpec, word: str, used_names: set[str]) -> Iterator[Completion]:
    name, separator, value = word.partition("=")
    if separator:
        yield from _matching(value, catalog.parameter_values(spec, name), meta="value")
        return
    for parameter in catalog.write_parameters(spec):
        if parameter.startswith(name) and parameter not in used_names:
            required = parameter in catalog.required_parameters(spec)
            yield Completion(f"{parameter}=", -len(word), display=f"{parameter}=",
                             display_meta="required" if required else "")


def _unique(completions: Iterable[Completion]) -> Iterator[Completion]:
    seen: set[str] = set()
    for completion in completions:
        if completion.text not in seen:
            seen.add(completion.text)
            yield completion
