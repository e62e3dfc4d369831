"""Dates named in a turn, resolved against the turn's own time (stdlib only).

Small models get dates wrong; "yesterday" said on 4 May means 3 May no matter
what the model thinks, so dates are parsed here, deterministically.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
_MONTH_RE = "|".join(m[:3] + r"[a-z]*" for m in MONTHS)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\.?(?:,?\s+(\d{{4}}))?\b", re.I)
_MONTH_DAY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.I)
_AGO = re.compile(r"\b(\d+|a|an|one|two|three|four|five|six|seven)\s+(day|week)s?\s+ago\b", re.I)
_WEEKDAY = re.compile(r"\b(last|this|on|next)?\s*(" + "|".join(WEEKDAYS) + r")\b", re.I)
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7}
# Words that name when something happened; removed when the action phrase is cut out.
TIME_WORDS = re.compile(
    r"\b(?:yesterday|today|tonight|this (?:morning|afternoon|evening)|last (?:night|week|weekend|month|year)|"
    r"(?:last |this |on )?(?:" + "|".join(WEEKDAYS) + r")|(?:\d+|a|an|one|two|three) (?:day|week)s? ago)\b", re.I)


def _month(name: str) -> int:
    return next(i for i, m in enumerate(MONTHS, start=1) if name.lower().startswith(m[:3]))


def _safe(year: int, month: int, day: int, ref: datetime) -> datetime | None:
    try:
        return ref.replace(year=year, month=month, day=day)
    except ValueError:
        return None


def parse_when(text: str, ref: datetime) -> datetime | None:
    """The moment ``text`` talks about, relative to ``ref`` (the turn time); None if it names none.

    The clock time of ``ref`` is kept (we rarely know the hour), the date moves.
    """
    match = _ISO.search(text)
    if match:
        return _safe(int(match[1]), int(match[2]), int(match[3]), ref)
    for pattern, day_group, month_group in ((_DAY_MONTH, 1, 2), (_MONTH_DAY, 2, 1)):
        match = pattern.search(text)
        if match:
            year = int(match[3]) if match[3] else ref.year
            found = _safe(year, _month(match[month_group]), int(match[day_group]), ref)
            if found is not None and not match[3] and found > ref:
                found = _safe(year - 1, found.month, found.day, ref)  # "on 3 May" said in January: last year
            return found
    lowered = text.lower()
    if re.search(r"\byesterday\b", lowered) or "last night" in lowered:
        return ref - timedelta(days=1)
    match = _AGO.search(text)
    if match:
        count = int(match[1]) if match[1].isdigit() else _NUMBERS[match[1].lower()]
        return ref - timedelta(days=count * (7 if match[2].lower() == "week" else 1))
    if "last week" in lowered:
        return ref - timedelta(days=7)
    if "last weekend" in lowered:
        back = (ref.weekday() - 5) % 7 or 7
        return ref - timedelta(days=back + (7 if back < 2 else 0))
    match = _WEEKDAY.search(text)
    if match:
        target = WEEKDAYS.index(match[2].lower())
        back = (ref.weekday() - target) % 7
        if match[1] and match[1].lower() == "last" and back == 0:
            back = 7
        if match[1] and match[1].lower() == "next":
            return ref + timedelta(days=(target - ref.weekday()) % 7 or 7)
        return ref - timedelta(days=back)
    if re.search(r"\b(today|tonight|this morning|this afternoon|this evening)\b", lowered):
        return ref
    return None


def describe(moment: datetime | None) -> str:
    """A short human date, e.g. "Sunday 3 May 2026"."""
    if moment is None:
        return "an unknown time"
    return f"{WEEKDAYS[moment.weekday()].capitalize()} {moment.day} {MONTHS[moment.month - 1].capitalize()} {moment.year}"


def parse_bound(value: str | None) -> datetime | None:
    """A time-window bound from the model ("YYYY-MM-DD" or "YYYY-MM-DD HH:MM"); None when absent or bad."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).strip())
    except ValueError:
        return None
