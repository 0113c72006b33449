"""Serve short SQLite queries on the event loop, falling back to a query thread.

`InlineQueries.reply` runs the session check and a cached query through
`storage.direct`. It gives up, returning None, whenever the request needs
more than short reads: a session to renew or remove, a statement outside
the compiler's caches, a streamed page, SQL that ran long once, a locked
database. The caller then runs the request on the usual path. Both paths
run the same SQL text with the same values, so they differ in cost, not in
results.
"""

from __future__ import annotations

from collections.abc import Callable

from ..accounts.sessions import SESSION_LOOKUP, SessionManager
from ..errors import invalid_session
from ..query.engine import CompiledQuery
from ..query.visibility import Visibility
from ..rendering import InventoryRenderer
from ..storage.direct import NotServedHere, SqliteDirectReader
from .replies import CHUNK_ROWS, page_body


class InlineQueries:
    """Short reads of one SQLite database, run by the event loop's thread only."""

    def __init__(self, reader: SqliteDirectReader, sessions: SessionManager,
                 renderer: InventoryRenderer) -> None:
        self.reader = reader
        self.sessions = sessions
        self.renderer = renderer
        self._session_read = reader.prepared(SESSION_LOOKUP)

    def reply(self, session_uuid: str, context,
              compile_query: Callable[[Visibility], CompiledQuery | None]) -> bytes | None:
        """Return the reply body, or None when the request must take the usual path.

        Raises ID.1001 for an unknown session and what `compile_query` raises
        for a bad query, as the usual path does, in the same order.
        `compile_query` returns None for statements not compiled yet, which
        the query threads compile instead of the event loop.
        """
        if not session_uuid or "\x00" in session_uuid:
            raise invalid_session()
        reader = self.reader
        try:
            found = reader.fetch(self._session_read, {"session_uuid": session_uuid})
            account_uuid = self.sessions.current_account(session_uuid,
                                                         found[0] if found else None)
            if account_uuid is None:
                return None
            context.account_uuid = account_uuid

            compiled = compile_query(Visibility.of(account_uuid))
            if compiled is None or not compiled.reusable or compiled.limit > CHUNK_ROWS:
                return None

            values = compiled.parameters
            if compiled.count is None:
                # One statement reads one snapshot; no transaction is needed.
                total = None
                rows = reader.fetch(reader.prepared(compiled.rows), values)
            else:
                # The count and the page must agree, so they share a transaction.
                reader.begin()
                try:
                    total = reader.fetch(reader.prepared(compiled.count), values)[0][0]
                    rows = (None if compiled.rows is None
                            else reader.fetch(reader.prepared(compiled.rows), values))
                finally:
                    reader.end()
        except NotServedHere:
            return None
        return page_body(compiled, total, rows, self.renderer)
