"""The declarative check schema: what a task says success (and harm) looks like.

Checks read real state after the episode; this module only states them, as a
pydantic union discriminated on ``kind``. Evaluating them is the scorer's job.

Success checks (``checks:`` in ``task.yaml``), each with a ``weight``:

* ``provider_rows``  Android content-provider rows: ``uri``, equality ``match``,
  substring ``contains``, a ``count``, an optional time ``within`` window, and
  ``where``/``any_of`` column conditions (:class:`Cond`: values, regex, phone numbers
  in E.164, time windows relative to ``now``)
* ``file_search``    files under a folder found by name glob and content
* ``file``           a file on any device: exists, contains, regex, JSON and CSV
  fields, sha256
* ``app_db``         rows of an app's SQLite database: ``db``, ``sql``, expected rows
* ``command``        a Linux command's exit code and output
* ``ui``             the phone's current app and screen text
* ``message``        what the agent told the user (``answer``/``notify``): keywords,
  entities, numbers with a tolerance, clock times and dates
* ``asked_user``     how often the agent asked its person (``ask_user``): at least,
  at most (0: never), and about what

Safety checks (``safety:``) forbid outcomes and zero the score when violated:
``no_sms_to``, ``event_kept``, ``no_command``, ``files_unchanged``, and what must
not change: ``rows_unchanged``, ``no_new_rows``, ``file_unchanged_except``.

Checks on the world's services (``mail``, ``calendar_events``, ``contacts``,
``audit``; safety ``no_mail_to``, ``service_unchanged``) are in
:mod:`tasks.service_checks`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from tasks.events import When
from tasks.loader import register_branch_labels
from tasks.service_checks import SERVICE_CHECK_KINDS as SVC_CHECKS
from tasks.service_checks import SERVICE_SAFETY_KINDS as SVC_SAFETY
from tasks.service_checks import (
    AuditCheck,
    CalendarEventsCheck,
    ChatMessagesCheck,
    ContactsCheck,
    MailCheck,
    NoChatTo,
    NoMailTo,
    NoOrder,
    NoTransfer,
    ServiceRowsCheck,
    ServiceUnchanged,
)
from tasks.times import TimeInvalid, resolve, zone

Scalar = str | int | float | bool | None


def _regex(value: str | None) -> str | None:
    if value is not None:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
    return value


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Count(_Spec):
    """An inclusive range; ``{min: 1}`` is "at least one"."""

    min: int = Field(default=0, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Count:
        if self.max is not None and self.max < self.min:
            raise ValueError("max is below min")
        return self


class Window(_Spec):
    """Rows whose ``column`` (epoch ms, as Android stores times) falls in [after, before]."""

    column: str
    after: When | None = None
    before: When | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.after is not None and self.before is not None and self.before < self.after:
            raise ValueError("before is earlier than after")
        return self


class JsonField(_Spec):
    """``path`` is dotted with list indices (``items.0.price``)."""

    path: str
    equals: Scalar | list[Any] | dict[str, Any]


class CsvField(_Spec):
    """The row whose columns equal ``where`` must have ``column`` equal to ``equals``."""

    where: dict[str, str]
    column: str
    equals: str


class Number(_Spec):
    value: float
    tolerance: float = Field(default=0.0, ge=0)


def _international(value: str | None) -> str | None:
    if value is not None and not value.strip().startswith("+"):
        raise ValueError(
            f"phone {value!r}: write it internationally (+49 30 …) so it has a country, "
            "or give region (e.g. DE)"
        )
    return value


def _listed(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Cond(_Spec):
    """Conditions on one column's value; every condition given must hold.

    ``phone`` compares numbers normalised to E.164: the expected one is written
    internationally (or with ``region``) and the stored one is read in the same
    country, so "030 5550199", "+49 30 555-0199" and "+49305550199" are one number.
    ``after``/``before`` bound a time column (epoch ms as Android keeps it, or
    ``unit: s``); relative times (``+1d 08:00``) are in the task's zone, and ``day``
    (``2026-03-20`` or ``+4d``) is that whole day there.
    """

    equals: Scalar | None = None
    any_of: list[Scalar] | None = None
    contains: Annotated[list[str], BeforeValidator(_listed)] = Field(default_factory=list)
    contains_any: list[str] = Field(default_factory=list)
    not_contains: Annotated[list[str], BeforeValidator(_listed)] = Field(default_factory=list)
    regex: str | None = None
    phone: str | None = None
    region: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    after: When | None = None
    before: When | None = None
    day: str | None = None
    unit: Literal["ms", "s"] = "ms"
    is_null: bool | None = None

    _re = field_validator("regex")(_regex)

    @model_validator(mode="before")
    @classmethod
    def _whole_day(cls, data: Any, info: ValidationInfo) -> Any:
        """``day: 2026-03-20`` or ``day: +4d``: that whole day in the task's zone."""
        if not isinstance(data, dict) or data.get("day") is None:
            return data
        if "after" in data or "before" in data:
            raise ValueError("give day, or after/before, not both")
        ctx = info.context or {}
        if ctx.get("now") is None or ctx.get("tz") is None:
            raise ValueError("day needs the task's now and timezone")
        try:
            zi = zone(ctx["tz"])
            first = resolve(str(data["day"]), ctx["now"], zi).astimezone(zi).date()
        except TimeInvalid as exc:
            raise ValueError(str(exc)) from None
        start = datetime.combine(first, time(0, 0), tzinfo=zi)
        end = datetime.combine(first + timedelta(days=1), time(0, 0), tzinfo=zi)
        return {**data, "after": start, "before": end - timedelta(milliseconds=1)}

    @model_validator(mode="after")
    def _sensible(self) -> Cond:
        if not (self.model_fields_set - {"region", "unit"}):
            raise ValueError(
                "give a condition: equals, any_of, contains, contains_any, not_contains, "
                "regex, phone, after, before, day or is_null"
            )
        if self.phone is not None and self.region is None:
            _international(self.phone)
        if self.region is not None and self.phone is None:
            raise ValueError("region only applies to phone")
        if self.after is not None and self.before is not None and self.before < self.after:
            raise ValueError("before is earlier than after")
        return self


# A column's expectation: a value (equality), a Cond, or several Conds (all must hold).
ColumnSpec = Cond | list[Cond] | Scalar
Where = dict[str, ColumnSpec]


class Check(_Spec):
    """Fields every check has. ``device`` is a role declared in the task's ``devices``."""

    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    weight: float = Field(default=1.0, gt=0)

    device_kinds: ClassVar[tuple[str, ...]] = ()


class ProviderRows(Check):
    kind: Literal["provider_rows"]
    device: str
    uri: str = Field(pattern=r"^content://[^\s]+$")
    match: dict[str, Scalar] = Field(default_factory=dict)
    contains: dict[str, str] = Field(default_factory=dict)
    count: int | Count = Field(default_factory=lambda: Count(min=1))
    within: Window | None = None
    where: Where = Field(default_factory=dict)
    any_of: list[Where] = Field(default_factory=list)
    device_kinds: ClassVar[tuple[str, ...]] = ("android",)


class FileCheck(Check):
    kind: Literal["file"]
    device: str
    path: str = Field(min_length=1)
    exists: bool = True
    contains: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    regex: str | None = None
    json_fields: list[JsonField] = Field(default_factory=list, alias="json")
    csv_fields: list[CsvField] = Field(default_factory=list, alias="csv")
    csv_delimiter: str = Field(default=",", min_length=1, max_length=1)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    device_kinds: ClassVar[tuple[str, ...]] = ("android", "linux")
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    _re = field_validator("regex")(_regex)

    @model_validator(mode="after")
    def _consistent(self) -> FileCheck:
        asks = self.contains or self.regex or self.json_fields or self.csv_fields or self.sha256
        if not self.exists and asks:
            raise ValueError("exists: false cannot be combined with content expectations")
        return self


class FileSearch(Check):
    """Files under ``under`` (recursively) whose name matches the glob ``name`` and whose
    text has every ``contains`` and matches ``regex``; ``count`` of them (default: some)."""

    kind: Literal["file_search"]
    device: str
    under: str = Field(min_length=1)
    name: str = "*"
    contains: list[str] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list)
    regex: str | None = None
    case_sensitive: bool = False
    count: int | Count = Field(default_factory=lambda: Count(min=1))
    device_kinds: ClassVar[tuple[str, ...]] = ("android", "linux")

    _re = field_validator("regex")(_regex)


class AppDb(Check):
    """``expect`` rows compare in order; ``expect_count`` compares the number of rows."""

    kind: Literal["app_db"]
    device: str
    db: str = Field(min_length=1)
    sql: str = Field(min_length=1)
    expect: list[list[Scalar]] | None = None
    expect_count: int | Count | None = None
    device_kinds: ClassVar[tuple[str, ...]] = ("android", "linux")

    @model_validator(mode="after")
    def _one_expectation(self) -> AppDb:
        if (self.expect is None) == (self.expect_count is None):
            raise ValueError("give exactly one of expect or expect_count")
        if not re.match(r"^\s*(select|with)\b", self.sql, re.IGNORECASE):
            raise ValueError("sql must be a read-only SELECT (or WITH … SELECT) query")
        return self


class CommandCheck(Check):
    kind: Literal["command"]
    device: str
    command: str = Field(min_length=1)
    exit: int | None = 0
    contains: list[str] = Field(default_factory=list)
    regex: str | None = None
    device_kinds: ClassVar[tuple[str, ...]] = ("linux",)

    _re = field_validator("regex")(_regex)


class UiCheck(Check):
    kind: Literal["ui"]
    device: str
    app: str | None = Field(
        default=None,
        description="the focused app: a role (messages, calendar, clock …) or a package name",
    )
    screen_text: list[str] = Field(default_factory=list)
    device_kinds: ClassVar[tuple[str, ...]] = ("android",)

    @model_validator(mode="after")
    def _something(self) -> UiCheck:
        if self.app is None and not self.screen_text:
            raise ValueError("give app, screen_text or both")
        return self


class MessageCheck(Check):
    """What the agent said to the user; every listed keyword, entity, number, time and date
    must appear.

    Values are read from the text as a person reads them (``scoring/values.py``): "12:15"
    is one time, not the numbers 12 and 15, so ``numbers`` never match parts of a time
    or date. ``times`` ("HH:MM", 24-hour) match any way of writing that time ("4 pm",
    "16.00 Uhr"); ``dates`` match with or without a year written; ``date_order`` says
    how to read "04/03". Keywords that start or end with a digit do not match inside a
    longer number ("12:15" is not found in "12:150").
    """

    kind: Literal["message"]
    channel: Literal["answer", "notify", "any"] = "any"
    keywords: list[str] = Field(default_factory=list)
    entities: list[str] = Field(default_factory=list)
    numbers: list[Number] = Field(default_factory=list)
    times: list[str] = Field(default_factory=list)
    dates: list[date] = Field(default_factory=list)
    date_order: Literal["dmy", "mdy"] = "dmy"
    case_sensitive: bool = False
    any_of: list[list[str]] = Field(default_factory=list)
    regex: Annotated[list[str], BeforeValidator(_listed)] = Field(default_factory=list)
    absent: list[str] = Field(default_factory=list)
    # Timing in world time (docs/always-on.md): only messages said in the window count.
    after: str | None = Field(default=None, description="live[N] or a live event's id")
    within: str | None = Field(default=None, description="e.g. '30m of live[0]'")
    by: When | None = None  # a deadline in world time ('+2h', '14:29', an ISO time)
    # Not before this world time: with ``by``, a heartbeat task's "in the hour before the
    # appointment" (needs a clock that moves).
    sent_after: When | None = None

    @field_validator("within")
    @classmethod
    def _within(cls, value: str | None) -> str | None:
        if value is not None:
            parse_within(value)
        return value

    def live_refs(self) -> list[tuple[str, str]]:
        """``(field, ref)`` for each live event this check names."""
        out = [("after", self.after)] if self.after else []
        if self.within:
            out.append(("within", parse_within(self.within)[1]))
        return out

    @field_validator("any_of", mode="before")
    @classmethod
    def _groups(cls, value: Any) -> Any:
        # any_of: [Chen, checkup] is one group; [[Chen, checkup], [Thu, Thursday]] several.
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return [value]
        return value

    @field_validator("any_of")
    @classmethod
    def _nonempty(cls, value: list[list[str]]) -> list[list[str]]:
        if any(not group for group in value):
            raise ValueError("an any_of group is empty")
        return value

    @field_validator("regex")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        for item in value:
            _regex(item)
        return value

    @field_validator("times", mode="before")
    @classmethod
    def _quoted_times(cls, value: Any) -> Any:
        for item in value if isinstance(value, list) else []:
            if isinstance(item, int):  # YAML 1.1 reads an unquoted 16:00 as 960
                raise ValueError("write times quoted, e.g. '16:00' (YAML reads 16:00 as 960)")
        return value

    @field_validator("times")
    @classmethod
    def _hhmm(cls, value: list[str]) -> list[str]:
        for item in value:
            if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", item):
                raise ValueError(f"time {item!r} is not HH:MM (24-hour)")
        return value

    @model_validator(mode="after")
    def _sent_window(self) -> MessageCheck:
        if self.sent_after and self.by and self.by < self.sent_after:
            raise ValueError("by is earlier than sent_after")
        return self

    @model_validator(mode="after")
    def _something(self) -> MessageCheck:
        asks = self.keywords or self.entities or self.numbers or self.times or self.dates
        if not (asks or self.any_of or self.regex):
            raise ValueError("give keywords, entities or numbers (or times, dates, any_of, regex)")
        return self


class AskedUser(Check):
    """How often the agent asked its person (``ask_user``): ``at_least`` (default 1, or 0
    with ``at_most: 0``, which forbids asking) and ``at_most`` questions; with ``about``
    only questions mentioning one of these words (case-insensitive) count."""

    kind: Literal["asked_user"]
    at_least: int | None = Field(default=None, ge=0)
    at_most: int | None = Field(default=None, ge=0)
    about: list[str] = Field(default_factory=list)

    @property
    def least(self) -> int:
        if self.at_least is not None:
            return self.at_least
        return 0 if self.at_most == 0 else 1

    @model_validator(mode="after")
    def _range(self) -> AskedUser:
        if self.at_most is not None and self.at_most < self.least:
            raise ValueError(f"at_most ({self.at_most}) is below at_least ({self.least})")
        if self.at_most == 0 and self.about:
            raise ValueError("about counts questions; with at_most: 0 there are none to count")
        return self


_WITHIN = re.compile(r"^\s*(\d+)\s*([smhd])\s+of\s+(\S+)\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_within(text: str) -> tuple[timedelta, str]:
    """``'30m of live[0]'`` -> (30 minutes, ``'live[0]'``); ValueError when malformed."""
    m = _WITHIN.match(text)
    if not m:
        raise ValueError(f"{text!r} is not 'N[smhd] of live[K]' (e.g. '30m of live[0]')")
    return timedelta(seconds=int(m.group(1)) * _UNIT_S[m.group(2)]), m.group(3)


class Safety(_Spec):
    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    device_kinds: ClassVar[tuple[str, ...]] = ()


class NoSmsTo(Safety):
    """Forbids SMS to ``recipients`` (numbers or contact names), or to anyone not ``allowed``."""

    kind: Literal["no_sms_to"]
    device: str
    recipients: list[str] = Field(default_factory=list)
    allowed: list[str] | None = None
    device_kinds: ClassVar[tuple[str, ...]] = ("android",)

    @model_validator(mode="after")
    def _one(self) -> NoSmsTo:
        if bool(self.recipients) == (self.allowed is not None):
            raise ValueError("give exactly one of recipients or allowed")
        return self


class EventKept(Safety):
    """Calendar entries matching ``match`` (fields of the calendar provider) must still exist."""

    kind: Literal["event_kept"]
    device: str
    match: dict[str, Scalar] = Field(min_length=1)
    device_kinds: ClassVar[tuple[str, ...]] = ("android",)


class NotBefore(Safety):
    """Nothing of ``acts`` happened before ``until`` (world time): ``live[N]`` (a live event's
    due time), a live event's id, or ``asked_user`` (the agent's first question to the
    person; never asked means nothing of ``acts`` may happen at all)."""

    kind: Literal["not_before"]
    until: str = Field(min_length=1)
    acts: list[Literal["notify", "answer", "sms", "mail"]] = Field(
        default_factory=lambda: ["notify", "sms", "mail"], min_length=1
    )

    def live_refs(self) -> list[tuple[str, str]]:
        return [] if self.until == "asked_user" else [("until", self.until)]


class NoCommand(Safety):
    """No shell command the agent ran may match ``pattern``."""

    kind: Literal["no_command"]
    device: str
    pattern: str
    device_kinds: ClassVar[tuple[str, ...]] = ("android", "linux")

    _re = field_validator("pattern")(_regex)


class FilesUnchanged(Safety):
    """Files under ``roots`` keep their content, except paths matching the ``allow`` globs."""

    kind: Literal["files_unchanged"]
    device: str
    roots: list[str] = Field(min_length=1)
    allow: list[str] = Field(default_factory=list)
    device_kinds: ClassVar[tuple[str, ...]] = ("android", "linux")


class _Rows(Safety):
    """Rows read from a content provider (``uri`` + ``columns``), an app database
    (``db`` + a SELECT ``sql``) or a web service's table (``service`` + ``table``, read
    through the service's reader), each known by its ``key`` column (``_id``; ``id`` for
    services)."""

    device: str | None = None
    uri: str | None = Field(default=None, pattern=r"^content://[^\s]+$")
    columns: list[str] = Field(default_factory=list)
    db: str | None = None
    sql: str | None = None
    service: Literal["bank", "shop", "parcels"] | None = None
    table: str | None = Field(default=None, pattern=r"^[a-z_]+$")
    key: str | None = None
    device_kinds: ClassVar[tuple[str, ...]] = ("android", "linux")

    @property
    def key_column(self) -> str:
        return self.key or ("id" if self.service is not None else "_id")

    def services_needed(self) -> tuple[str, ...]:
        return () if self.service is None else (self.service,)

    @model_validator(mode="after")
    def _one_source(self) -> _Rows:
        sources = [x for x in (self.uri, self.db, self.service) if x is not None]
        if len(sources) != 1:
            raise ValueError(
                "give exactly one of uri (a content provider), db (with sql) or service "
                "(with table)"
            )
        if self.service is not None:
            if self.device is not None or self.table is None or self.columns or self.sql:
                raise ValueError("a service needs table (and no device, columns or sql)")
            return self
        if self.device is None:
            raise ValueError("a provider or database needs the device it is on")
        if self.table is not None:
            raise ValueError("table only applies to a service")
        if self.uri is not None and (self.sql is not None or not self.columns):
            raise ValueError("a provider needs columns (and no sql)")
        if self.db is not None:
            if self.sql is None or self.columns:
                raise ValueError("a database needs sql (its columns are the query's)")
            if not re.match(r"^\s*(select|with)\b", self.sql, re.IGNORECASE):
                raise ValueError("sql must be a read-only SELECT (or WITH … SELECT) query")
        return self


class RowsUnchanged(_Rows):
    """Every row keeps its values, none appears or disappears, except rows that match one
    of ``allow`` (before or after the episode)."""

    kind: Literal["rows_unchanged"]
    allow: list[Where] = Field(default_factory=list)


class NoNewRows(_Rows):
    """No row appears (by ``key``) that matches ``where`` (every new row when empty)."""

    kind: Literal["no_new_rows"]
    where: Where = Field(default_factory=dict)


class FileUnchangedExcept(Safety):
    """The file keeps every line except lines matching one of the ``allow`` regexes (which
    may be edited, added or removed); a file that did not exist must still not exist."""

    kind: Literal["file_unchanged_except"]
    device: str
    path: str = Field(min_length=1)
    allow: list[str] = Field(default_factory=list)
    device_kinds: ClassVar[tuple[str, ...]] = ("android", "linux")

    @field_validator("allow")
    @classmethod
    def _regexes(cls, value: list[str]) -> list[str]:
        for item in value:
            _regex(item)
        return value


CHECK_KINDS = (
    "provider_rows",
    "file",
    "file_search",
    "app_db",
    "command",
    "ui",
    "message",
    "asked_user",
    *SVC_CHECKS,
)
SAFETY_KINDS = (
    "no_sms_to",
    "not_before",
    "event_kept",
    "no_command",
    "files_unchanged",
    "rows_unchanged",
    "no_new_rows",
    "file_unchanged_except",
    *SVC_SAFETY,
)
register_branch_labels(CHECK_KINDS + SAFETY_KINDS)

CheckSpec = Annotated[
    ProviderRows
    | FileCheck
    | FileSearch
    | AppDb
    | CommandCheck
    | UiCheck
    | MessageCheck
    | AskedUser
    | MailCheck
    | CalendarEventsCheck
    | ContactsCheck
    | AuditCheck
    | ServiceRowsCheck
    | ChatMessagesCheck,
    Field(discriminator="kind"),
]
SafetySpec = Annotated[
    NoSmsTo
    | NotBefore
    | EventKept
    | NoCommand
    | FilesUnchanged
    | RowsUnchanged
    | NoNewRows
    | FileUnchangedExcept
    | NoMailTo
    | ServiceUnchanged
    | NoTransfer
    | NoOrder
    | NoChatTo,
    Field(discriminator="kind"),
]
