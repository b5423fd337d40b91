"""Server-side prepared statements for the public survey pages' hot path.

psycopg2 sends each statement as text, so Postgres parses and plans it every time. For
the short statements of a survey answer that was 40 % of the database's work: 1.16 ms
of its CPU per answer, 0.68 ms prepared (python -m feedback.bench measures the whole).
A `Prepared` statement is prepared once per connection and then run by name.
On SQLite it is plain SQL. Prepared statements live in the database session, so a
pooler in front of Postgres must keep sessions (pgbouncer's session mode, not its
transaction mode), and a migration that changes the columns a prepared SELECT returns
needs the web workers restarted, as every deploy does.
"""

import re
from weakref import WeakKeyDictionary

PLACEHOLDER = re.compile(r"%\((\w+)\)s")

# The statements prepared on each open Postgres connection (psycopg2's connection
# object); a new connection starts with none.
_prepared_on: WeakKeyDictionary = WeakKeyDictionary()


class Prepared:
    """A statement with %(name)s placeholders, named for PREPARE."""

    def __init__(self, name: str, sql: str):
        self.name, self.sql = name, sql
        self.params = list(dict.fromkeys(PLACEHOLDER.findall(sql)))
        positional = PLACEHOLDER.sub(lambda m: f"${self.params.index(m[1]) + 1}", sql)
        self.prepare_sql = f"PREPARE {name} AS {positional.replace('%%', '%')}"
        self.execute_sql = f"EXECUTE {name}({', '.join(['%s'] * len(self.params))})"

    def as_sql(self, params: dict, connection) -> tuple[str, list | dict]:
        """The SQL and parameters to run on `connection` (e.g. for QuerySet.raw)."""
        if connection.vendor != "postgresql":
            return self.sql, params
        connection.ensure_connection()
        prepared = _prepared_on.setdefault(connection.connection, set())
        if self.name not in prepared:
            with connection.cursor() as cursor:
                cursor.execute(self.prepare_sql)
            prepared.add(self.name)
        return self.execute_sql, [params[name] for name in self.params]

    def execute(self, cursor, params: dict) -> None:
        cursor.execute(*self.as_sql(params, cursor.db))
