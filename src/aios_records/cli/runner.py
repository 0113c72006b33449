"""Run parsed commands against one server: call the SDK, keep the session, print the result.

Exit statuses: 0 for success, 1 for a failed call (an error reply, no
session, an unreachable server, a state directory that cannot be used),
2 for a usage error (an unknown command or
parameter, a malformed value).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Sequence
from typing import TextIO

import httpx

from ..sdk import ApiError, Client
from ..sdk.client import SESSION_EXPIRED
from ..sdk.transport import path_parameters
from . import catalog
from .config import CliConfig
from .help import api_help, general_help
from .messages import UsageError, accept_language, text
from .output import format_error, format_reply
from .parser import ApiCommand, Command, ShellCommand, parse_line, parse_words
from .sessions import SavedSession, SessionStore, StateDirectoryError

log = logging.getLogger("aios_records.cli")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

PasswordPrompt = Callable[[], str | None]


class Runner:
    """Command execution for one server, with one connection pool and the saved session.

    `password_prompt` is called for a LogInByAccount without `password`. It
    returns the password, or None to cancel the login. Without it, the login
    goes to the server as typed.
    """

    def __init__(self, config: CliConfig, *, stdout: TextIO, stderr: TextIO,
                 store: SessionStore | None = None,
                 password_prompt: PasswordPrompt | None = None) -> None:
        self.config = config
        self.output_format = config.output
        self.store = store or SessionStore(config.session_path)
        self.stdout = stdout
        self.stderr = stderr
        self.password_prompt = password_prompt
        self.exit_requested = False
        self.client = Client(config.base_url, timeout=config.timeout,
                             headers={"Accept-Language": accept_language()})

    def close(self) -> None:
        self.client.close()

    @property
    def saved_session(self) -> SavedSession | None:
        return self.store.load(self.config.base_url)

    # -- entry points ---------------------------------------------------------

    def run_line(self, line: str) -> int:
        """Parse and run one line; a blank line or a comment succeeds without a call."""
        try:
            command = parse_line(line)
        except UsageError as error:
            return self._usage_error(error)
        return EXIT_OK if command is None else self.run(command)

    def run_words(self, words: Sequence[str]) -> int:
        """Run a command given as separate words, such as the arguments of `aios-cli`."""
        try:
            command = parse_words(words)
        except UsageError as error:
            return self._usage_error(error)
        return self.run(command)

    def run(self, command: Command) -> int:
        try:
            if isinstance(command, ShellCommand):
                return self._shell_command(command)
            return self._api_command(command)
        except UsageError as error:
            return self._usage_error(error)
        except StateDirectoryError as error:
            return self._failure(text("state_unusable", path=error.directory,
                                      error=error.error.strerror or error.error))

    # -- shell commands -------------------------------------------------------

    def _shell_command(self, command: ShellCommand) -> int:
        arguments = command.arguments
        if command.name in ("exit", "quit"):
            if arguments:
                raise UsageError("too_many_arguments", command=command.name)
            self.exit_requested = True
            return EXIT_OK
        if len(arguments) > 1:
            raise UsageError("too_many_arguments", command=command.name)

        if command.name == "help":
            if not arguments or arguments[0] in catalog.SHELL_COMMANDS:
                self._print(general_help())
                return EXIT_OK
            spec = catalog.api_spec(arguments[0])
            if spec is None:
                raise UsageError("unknown_command", command=arguments[0])
            self._print(api_help(spec))
            return EXIT_OK

        # The `output` command shows or sets the output format of this shell.
        if not arguments:
            self._print(text("output_current", format=self.output_format,
                             formats=", ".join(catalog.OUTPUT_FORMATS)))
            return EXIT_OK
        if arguments[0] not in catalog.OUTPUT_FORMATS:
            raise UsageError("bad_output_format", value=arguments[0],
                             formats=", ".join(catalog.OUTPUT_FORMATS))
        self.output_format = arguments[0]
        self._print(text("output_set", format=self.output_format))
        return EXIT_OK

    # -- API calls ------------------------------------------------------------

    def _api_command(self, command: ApiCommand) -> int:
        spec = command.spec
        if spec.name == "LogInByAccount" and "password" not in command.values \
                and self.password_prompt is not None:
            password = self.password_prompt()
            if password is None:
                return EXIT_USAGE
            command.values["password"] = password
        call = command.to_call()

        saved = self.saved_session
        session_id = call.session_id or (saved.uuid if saved else None)
        path_params = dict(call.path_params)
        if catalog.SESSION_PATH_PARAMETER in path_parameters(spec) \
                and catalog.SESSION_PATH_PARAMETER not in path_params:
            if session_id is None:
                return self._not_logged_in()
            path_params[catalog.SESSION_PATH_PARAMETER] = session_id
        if spec.needs_session and session_id is None:
            return self._not_logged_in()

        self.client.session_id = session_id if spec.needs_session else None
        try:
            reply = self.client.call(spec.name, path_params=path_params, body=call.body,
                                     params=call.params)
        except ApiError as error:
            self._print_error(format_error(error.error, self.output_format))
            if error.code == SESSION_EXPIRED and saved is not None \
                    and session_id == saved.uuid:
                self.store.clear(self.config.base_url)
                self._print_error(text("session_cleared"))
            return EXIT_FAILED
        except httpx.TimeoutException:
            return self._failure(text("timed_out", url=self.config.base_url,
                                      seconds=f"{self.config.timeout:g}"))
        except httpx.ConnectError as error:
            return self._failure(text("server_unreachable", address=self._address(),
                                      error=error))
        except httpx.HTTPError as error:
            return self._failure(text("connect_failed", url=self.config.base_url, error=error))

        self._remember_session(spec.name, command, path_params, reply, saved)
        self._print(format_reply(reply, self.output_format))
        return EXIT_OK

    def _remember_session(self, api: str, command: ApiCommand, path_params: dict,
                          reply: dict, saved: SavedSession | None) -> None:
        """Save the session of a login; forget the saved one after LogOut or a failed check."""
        server = self.config.base_url
        if api == "LogInByAccount":
            uuid = reply.get("inventory", {}).get("uuid")
            if isinstance(uuid, str):
                self.store.save(server, SavedSession(uuid, command.values.get("accountName")))
            return
        ends_saved = saved is not None \
            and path_params.get(catalog.SESSION_PATH_PARAMETER) == saved.uuid
        if api == "LogOut" and ends_saved:
            self.store.clear(server)
        elif api == "ValidateSession" and ends_saved and reply.get("valid") is False:
            self.store.clear(server)
            self._print_error(text("session_cleared"))

    def _not_logged_in(self) -> int:
        """Report the missing session, or the unreachable server when nothing listens there.

        Without a session no request is sent, so a TCP connect is the only way
        to tell "log in first" from "the server is not running".
        """
        host = self.config.host.strip("[]")
        try:
            with socket.create_connection((host, self.config.port),
                                          timeout=self.config.timeout):
                pass
        except OSError as error:
            return self._failure(text("server_unreachable", address=self._address(),
                                      error=error.strerror or error))
        return self._failure(text("not_logged_in"))

    def _address(self) -> str:
        host = self.config.host
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"{host}:{self.config.port}"

    # -- printing -------------------------------------------------------------

    def _print(self, message: str) -> None:
        print(message, file=self.stdout, flush=True)

    def _print_error(self, message: str) -> None:
        print(message, file=self.stderr, flush=True)

    def _failure(self, message: str) -> int:
        self._print_error(message)
        return EXIT_FAILED

    def _usage_error(self, error: UsageError) -> int:
        self._print_error(str(error))
        return EXIT_USAGE
