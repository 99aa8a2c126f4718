"""dbt's cross-database macros for sqlfluff's jinja templater (see the package docstring)."""

from __future__ import annotations


def datediff(first: str, second: str, datepart: str) -> str:
    return f"datediff('{datepart}', {first}, {second})"


def dateadd(datepart: str, interval: str, from_date: str) -> str:
    return f"date_add({from_date}, {interval})"


def last_day(date: str, datepart: str) -> str:
    return f"last_day({date})"
