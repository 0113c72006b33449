"""The `aios-cli` command: options, one command, commands piped on stdin, or the interactive shell."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from prompt_toolkit import PromptSession
from prompt_toolkit.history import FileHistory
from prompt_toolkit.input import Input
from prompt_toolkit.output import Output

from .. import __version__
from .catalog import CLI_VALUE_OPTIONS
from .completer import CommandCompleter
from .config import CliConfig, config_file_path, load_config, state_directory
from .messages import UsageError, text
from .runner import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Runner
from .sessions import DIRECTORY_MODE, FILE_MODE, StateDirectoryError

# 128 + SIGINT, the status a shell reports for a command stopped by Ctrl-C.
EXIT_INTERRUPTED = 130

# Options that take a value, by the setting they set (`--context-path` sets `context_path`).
_VALUE_OPTIONS = {option: option.removeprefix("--").replace("-", "_")
                  for option in CLI_VALUE_OPTIONS}


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None,
         stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run aios-cli with `argv` (default: the process arguments); return the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        return _run(arguments, stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr)
    except KeyboardInterrupt:
        # Ctrl-C outside the interactive prompt, such as during a single
        # command: exit quietly with the shell's status for SIGINT.
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (`aios-cli ... | head`). Point stdout
        # at /dev/null so that flushing it at exit does not raise again.
        if stdout is None:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED


def _run(arguments: list[str], stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    try:
        options, words = _split_options(arguments)
        if options.pop("help", None):
            print(_usage(), file=stdout)
            return EXIT_OK
        if options.pop("version", None):
            print(f"aios-cli {__version__}", file=stdout)
            return EXIT_OK
        config_path = options.pop("config", None)
        config = load_config(options, config_path=Path(config_path) if config_path else None)
    except UsageError as error:
        print(error, file=stderr)
        return EXIT_USAGE

    interactive = stdin.isatty()
    runner = Runner(config, stdout=stdout, stderr=stderr,
                    password_prompt=_ask_password if interactive else None)
    try:
        if words:
            return runner.run_words(words)
        if not interactive:
            return run_lines(runner, stdin)
        try:
            shell = Shell(runner)
        except StateDirectoryError as error:
            print(text("state_unusable", path=error.directory,
                       error=error.error.strerror or error.error), file=stderr)
            return EXIT_FAILED
        print(text("welcome", url=config.base_url), file=stderr)
        return shell.run()
    finally:
        runner.close()


def _split_options(arguments: list[str]) -> tuple[dict[str, str], list[str]]:
    """Separate the leading options from the command words.

    Options end at the first word that does not start with `-`, or after `--`.
    """
    options: dict[str, str] = {}
    index = 0
    while index < len(arguments):
        argument = arguments[index]
        if argument == "--":
            index += 1
            break
        if not argument.startswith("-"):
            break
        if argument in ("-h", "--help"):
            options["help"] = "yes"
        elif argument == "--version":
            options["version"] = "yes"
        else:
            name, separator, value = argument.partition("=")
            if name not in _VALUE_OPTIONS:
                raise UsageError("unknown_option", option=argument)
            if not separator:
                if index + 1 >= len(arguments):
                    raise UsageError("option_needs_value", option=name)
                index += 1
                value = arguments[index]
            options[_VALUE_OPTIONS[name]] = value
        index += 1
    return options, arguments[index:]


def _usage() -> str:
    session = CliConfig(state_dir=state_directory(os.environ)).session_path
    return text("cli_usage", config=config_file_path(os.environ), session=session)


def run_lines(runner: Runner, stdin: TextIO) -> int:
    """Run one command per line of `stdin` and return the highest exit status.

    Every line runs, even after one fails, as in a shell script without
    `set -e`. The status is 0 when all lines succeed, 2 when any had a usage
    error, else 1 when any call failed. `exit` and `quit` stop reading.
    """
    worst = EXIT_OK
    for line in stdin:
        worst = max(worst, runner.run_line(line))
        if runner.exit_requested:
            break
    return worst


def _ask_password(input: Input | None = None, output: Output | None = None) -> str | None:
    """Ask for a password without echoing it; None when the user cancels with Ctrl-C or Ctrl-D.

    The prompt has a history of its own in memory, so the password never
    reaches the history file.
    """
    try:
        return PromptSession(input=input, output=output).prompt(text("password_prompt"),
                                                                is_password=True)
    except (KeyboardInterrupt, EOFError):
        return None


class SafeHistory(FileHistory):
    """A history file with mode 0600 that does not store lines with a password in them."""

    def __init__(self, path: Path) -> None:
        try:
            path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        except OSError as error:
            raise StateDirectoryError(path.parent, error) from None
        os.close(descriptor)
        super().__init__(str(path))

    def store_string(self, string: str) -> None:
        if "password=" in string:
            return
        super().store_string(string)


class Shell:
    """The interactive loop: prompt, run, print, until exit, quit or Ctrl-D.

    `input` and `output` are prompt_toolkit's terminal objects; tests pass a
    pipe input and a dummy output.
    """

    def __init__(self, runner: Runner, *, input: Input | None = None,
                 output: Output | None = None) -> None:
        self.runner = runner
        self.prompt_session: PromptSession[str] = PromptSession(
            history=SafeHistory(runner.config.history_path),
            completer=CommandCompleter(),
            complete_while_typing=False,
            input=input,
            output=output,
        )
        runner.password_prompt = lambda: _ask_password(input, output)

    def prompt_text(self) -> str:
        """Return `admin >>> ` after a login, as zstack-cli shows, or `>>> ` without a session."""
        saved = self.runner.saved_session
        if saved is not None and saved.account_name:
            return f"{saved.account_name} >>> "
        return ">>> "

    def run(self) -> int:
        while not self.runner.exit_requested:
            try:
                line = self.prompt_session.prompt(self.prompt_text())
            except KeyboardInterrupt:
                continue  # Ctrl-C clears the line, as in a shell.
            except EOFError:
                break
            try:
                self.runner.run_line(line)
            except KeyboardInterrupt:
                print(text("cancelled"), file=self.runner.stderr)
        return EXIT_OK
