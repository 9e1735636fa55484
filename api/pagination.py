"""Keyset (cursor) pagination of the read API: a page is the `size` rows after (or before) a
cursor in a fixed order, read with a bounded range condition on an index, never OFFSET: the
100th page costs what the first does.

A cursor is opaque to clients: the values of the order's fields of one row (its last change
and its UUID, for instance), as JSON in URL-safe base64. A cursor that does not decode, or
whose values do not read as the order's fields, is `CursorError` (a 400 for the client)."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import models
from django.db.models import Q


class CursorError(ValueError):
    pass


@dataclass(frozen=True)
class Order:
    """Rows sorted by `fields`, each descending (newest first); the last one is unique."""

    fields: tuple[str, ...]

    def key(self, row) -> tuple:
        """The cursor values of `row` (a model instance or a `values()` dict)."""
        if isinstance(row, dict):
            return tuple(row[name] for name in self.fields)
        return tuple(getattr(row, name) for name in self.fields)

    def descending(self) -> list[str]:
        return [f"-{name}" for name in self.fields]

    def ascending(self) -> list[str]:
        return list(self.fields)

    def beyond(self, key: tuple, *, older: bool, inclusive: bool = False) -> Q:
        """The rows after `key` in the descending order (`older`), or before it; `inclusive`
        takes the row of `key` too. Written as `a <= x AND (a < x OR (a = x AND b < y))` so
        that the database bounds its index scan by the first field."""
        lookup = "lt" if older else "gt"
        bound = "lte" if older else "gte"
        condition = Q()
        for index, name in enumerate(self.fields):
            equal = {self.fields[i]: key[i] for i in range(index)}
            last = index == len(self.fields) - 1
            op = ("lte" if older else "gte") if (last and inclusive) else lookup
            condition |= Q(**equal, **{f"{name}__{op}": key[index]})
        return Q(**{f"{self.fields[0]}__{bound}": key[0]}) & condition


def encode_cursor(key: tuple) -> str:
    values = [v.isoformat() if isinstance(v, datetime) else str(v) for v in key]
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, model: type[models.Model], order: Order) -> tuple:
    """The values of `cursor` as the order's fields of `model`, or CursorError."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise CursorError("cursor does not decode") from error
    if not isinstance(values, list) or len(values) != len(order.fields):
        raise CursorError("cursor of another list")
    key = []
    for name, value in zip(order.fields, values, strict=True):
        if not isinstance(value, str):
            raise CursorError("cursor of another list")
        field = model._meta.get_field(name)
        try:
            if isinstance(field, models.DateTimeField):
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise CursorError("cursor without time zone")
                parsed = parsed.astimezone(UTC)
            elif isinstance(field, models.UUIDField):
                parsed = uuid.UUID(value)
            elif isinstance(field, models.IntegerField):
                parsed = int(value)
            else:
                parsed = value
        except (ValueError, OverflowError) as error:
            raise CursorError("cursor of another list") from error
        key.append(parsed)
    return tuple(key)


@dataclass
class Page:
    rows: list
    has_next: bool
    has_prev: bool
    #: Cursors of the first and last rows (None on an empty page).
    first: str | None
    last: str | None


def keyset_page(
    queryset: models.QuerySet,
    order: Order,
    *,
    size: int,
    after: tuple | None = None,
    before: tuple | None = None,
    values: tuple[str, ...] = (),
) -> Page:
    """The page of `size` rows of `queryset` in `order` (descending): the first one, those
    after the `after` key, or those before the `before` key (still in descending order); as
    dicts of `values` when given (the order's fields among them). Two queries at most: the
    rows (one more than `size`, to know whether the list goes on) and, with a cursor, whether
    anything lies on the other side of it (on `queryset` alone, without the joins of
    `values`)."""
    if after is not None and before is not None:
        raise ValueError("after or before, not both")

    def read(rows_queryset):
        return rows_queryset.values(*values) if values else rows_queryset

    if before is None:
        window = queryset if after is None else queryset.filter(order.beyond(after, older=True))
        rows = list(read(window.order_by(*order.descending()))[: size + 1])
        has_next = len(rows) > size
        rows = rows[:size]
        has_prev = after is not None and (
            queryset.filter(order.beyond(after, older=False, inclusive=True)).exists()
        )
    else:
        window = queryset.filter(order.beyond(before, older=False))
        rows = list(read(window.order_by(*order.ascending()))[: size + 1])
        has_prev = len(rows) > size
        rows = rows[:size][::-1]
        has_next = queryset.filter(order.beyond(before, older=True, inclusive=True)).exists()
    return Page(
        rows=rows,
        has_next=has_next,
        has_prev=has_prev,
        first=encode_cursor(order.key(rows[0])) if rows else None,
        last=encode_cursor(order.key(rows[-1])) if rows else None,
    )
