"""What a source declares once: its connection, how it delivers, its raw tables and what their rows must hold.

The row rules (``hcp.rules``), the GX suites (``hcp.expectations``), the raw DDL (``hcp.warehouse``) and the
registry the DAG reads (``hcp.sources.SOURCES``) are all derived from these declarations.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

# The shape of a unified social credit code (GB 32100-2015); its check character is judged in SQL
USCC_PATTERN = "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
RATING_SEQUENCES = ("1", "2")  # a first rating, and a follow-up (追评)
# what the loader adds to every raw table (hcp.loading): the batch, the page or file, the line, when
LOADER_COLUMNS = {"_batch_id": "bigint not null", "_source_page": "text not null", "_line_no": "integer not null",
                  "_loaded_at": "timestamptz not null default now()"}

# SQL true when a row FAILS, or a function of every source's declaration giving it (a rule that looks in
# other sources' raw tables)
RuleSql = str | Callable[[Mapping[str, "SourceContract"]], str]


@dataclass(frozen=True)
class TimeFormat:
    """A row's time as the source writes it."""

    column: str
    regex: str  # the source's own format
    text_sql: str | None = None  # string-only SQL turning it into input for ``type`` (never a cast: it must not fail)
    type: Literal["timestamp", "timestamptz"] = "timestamp"  # a Beijing wall clock, or an instant with its offset

    @property
    def parsed(self) -> str:
        """The time as a Beijing wall-clock timestamp, null when it is no real time: casts that cannot fail
        (sql/util.sql), shared with staging so both read a time the same way."""
        text = self.text_sql or self.column
        if self.type == "timestamptz":
            return f"(util.to_timestamptz_or_null({text}) at time zone 'Asia/Shanghai')"
        return f"util.to_timestamp_or_null({text})"


@dataclass(frozen=True)
class LevelScale:
    """The channel's own rating scale: the values a level may take as sent."""

    column: str
    values: tuple[str, ...]
    trimmed: bool = False  # words may come with blanks around them; codes must be exact

    @property
    def fails(self) -> str:
        value = f"btrim({self.column})" if self.trimmed else self.column
        return f"coalesce({value}, '') not in ({', '.join(_quoted(v) for v in self.values)})"


@dataclass(frozen=True)
class ReasonCodes:
    """Where a channel carries its bad-review reason codes, and how they are listed."""

    column: str
    separator: str | None  # between codes in the text; None: a JSON array

    def codes_sql(self, table: str) -> str:
        """The batch's codes, one row per code (params: batch_id)."""
        split = (f"util.split_codes({self.column}, {_quoted(self.separator)})" if self.separator is not None
                 else f"util.reason_codes_from_json({self.column})")
        return f"select code from {table}, unnest({split}) code where _batch_id = %(batch_id)s"


@dataclass(frozen=True)
class RawTable:
    """A raw table: every field as text, as received, then the LOADER_COLUMNS."""

    name: str  # schema-qualified: raw.<name>
    columns: tuple[str, ...]  # in the table's order
    # filled from the file or folder a row came in: a rating sent again in another file is the same rating, so
    # these are left out when rows of one id and version are compared
    delivery_columns: tuple[str, ...] = ()
    id_column: str | None = None  # what a rating or event is: its rows are judged by the row rules (hcp.rules)
    version_column: str | None = None  # rows of one id and version must agree; None: the whole batch is one
    time: TimeFormat | None = None  # a rating's time: between the launch and the end of D+1
    level: LevelScale | None = None
    rules: tuple[tuple[str, RuleSql], ...] = ()  # the source's own rules (reason, SQL), before the shared ones
    case_column: str | None = None  # the case (办件) rated: must be there
    agency_column: str | None = None  # the agency rated: a valid unified social credit code
    sequence_column: str | None = None  # first rating or follow-up
    reason_codes: ReasonCodes | None = None
    # what the GX suite checks beyond the above (not null; a value set; a format), on most rows of a batch
    expect_not_null: tuple[str, ...] = ()
    expect_in_set: Mapping[str, tuple[str, ...] | Callable[[Mapping[str, SourceContract]], tuple[str, ...]]] = \
        field(default_factory=dict)
    expect_regex: Mapping[str, str] = field(default_factory=dict)
    batch_index: bool = True  # validation and dbt select a batch by its id; tiny snapshot tables need none
    index_on: tuple[str, ...] = ()  # further columns rows are looked up by (the id column always is)

    @property
    def short_name(self) -> str:
        return self.name.split(".")[-1]

    @property
    def source_columns(self) -> tuple[str, ...]:
        """The columns as the source sent them, without those filled from the delivery."""
        return tuple(c for c in self.columns if c not in self.delivery_columns)


Delivery = Literal["files", "http", "postgres"]
CONN_TYPES: dict[Delivery, str] = {"files": "fs", "http": "http", "postgres": "postgres"}


@dataclass(frozen=True)
class SourceContract:
    name: str
    name_zh: str
    conn_id: str
    delivery: Delivery  # files in a folder, a paged HTTP API, or a PostgreSQL table
    tables: tuple[RawTable, ...]
    extract: Callable[..., object]  # (warehouse_conn, night) -> loading.BatchResult
    is_channel: bool = True  # a rating channel, rather than master data or work orders
    staging_model: str | None = None  # the dbt staging model of its rows (a channel's: one row per version)
    # sources whose batch of the night this one's validation reads (tried or not: it waits, whatever they did)
    validated_after: tuple[str, ...] | Callable[[Mapping[str, SourceContract]], tuple[str, ...]] = ()
    # its rows wait (audit.held) for the master data to list their case, for this many days either side
    holds_for_case_days: int | None = None
    # its batches may let held rows go: new snapshots list their case, or their time is up
    releases_held: bool = False

    @property
    def conn_type(self) -> str:
        """What the connection must hold (hcp.preflight): fs a folder, http a URL, postgres a host."""
        return CONN_TYPES[self.delivery]

    def waits_for(self, sources: Mapping[str, SourceContract]) -> tuple[str, ...]:
        after = self.validated_after
        return tuple(after(sources) if callable(after) else after)

    @property
    def raw_tables(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tables)

    @property
    def table(self) -> RawTable:
        """The source's one raw table (master data has five)."""
        (table,) = self.tables
        return table


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
