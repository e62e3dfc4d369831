"""Dates and time windows named in text, resolved against a reference time, in every covered language.

Small models get dates wrong; "yesterday" said on 4 May means 3 May no matter
what the model thinks, so dates are resolved here, deterministically. The
resolving is dateparser's (its per-language data knows "im Juni", "il y a deux
semaines", "el mes pasado" and returns the period a phrase names); this module
finds the phrases in a sentence (dateparser's own search is slow and takes
"vi" for a date), turns a period into a window ("in June" is all of June,
"two weeks ago" that week), and adds what dateparser lacks: seasons, weekends
and "last Sunday" outside English, from the language tables
(``companion/resources/languages``). Seasons are the northern hemisphere's meteorological ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from companion.core import language
from companion.core.language import Language

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "winter": 12}    # first month; each lasts three
GRAINS = ("day", "week", "weekend", "month", "season", "year", "range")
_UNITS = ("day", "week", "month", "year")


@dataclass(frozen=True)
class Window:
    """A span of time a question names: ``start`` <= t < ``end``, in the reference's time zone."""

    start: datetime
    end: datetime
    grain: str            # one of GRAINS
    text: str = ""        # the words that named it
    season: str = ""      # for grain "season"

    def __contains__(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end

    def label(self, lang: Language | None = None) -> str:
        """"June 2026", "summer 2025", "the week of 22 June 2026" in the answer's language."""
        lang = lang or language.get(None)
        s = self.start
        month = _month_name(lang, s.month)
        if self.grain == "month":
            return lang.fill("dates", "month_year", month=month, year=s.year)
        if self.grain == "year":
            return lang.fill("dates", "year", year=s.year)
        if self.grain == "season":
            name = lang.get("dates", "seasons", {}).get(self.season, self.season)
            return lang.fill("dates", "season", season=name, year=s.year)
        if self.grain == "week":
            return lang.fill("dates", "week", day=s.day, month=month, year=s.year)
        if self.grain == "day":
            return describe(s, lang)
        last = self.end - timedelta(days=1)
        return lang.fill("dates", "range", start=short(s, lang) + (f" {s.year}" if s.year != last.year else ""),
                           end=f"{short(last, lang)} {last.year}")

    def to_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "grain": self.grain,
                "text": self.text}


# ---- describing dates -------------------------------------------------------------------


def _month_name(lang: Language, month: int) -> str:
    return str(lang.get("dates", "months")[month - 1])


def describe(moment: datetime | None, lang: Language | None = None) -> str:
    """A short human date, e.g. "Sunday 3 May 2026" (in ``lang``, English by default)."""
    lang = lang or language.get(None)
    if moment is None:
        return str(lang.get("dates", "unknown"))
    return lang.fill("dates", "long", weekday=lang.get("dates", "weekdays")[moment.weekday()],
                                            day=moment.day, month=_month_name(lang, moment.month), year=moment.year)


def short(moment: datetime, lang: Language | None = None) -> str:
    """Day and month, e.g. "14 June"."""
    lang = lang or language.get(None)
    return lang.fill("dates", "short", day=moment.day, month=_month_name(lang, moment.month))


def parse_bound(value: str | None) -> datetime | None:
    """A time-window bound from the model ("YYYY-MM-DD" or "YYYY-MM-DD HH:MM"); None when absent or bad."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).strip())
    except ValueError:
        return None


# ---- finding time phrases ---------------------------------------------------------------


@dataclass(frozen=True)
class _Vocabulary:
    months: dict[str, int]
    weekdays: dict[str, int]
    numbers: dict[str, int]
    patterns: tuple[tuple[str, re.Pattern[str]], ...]   # (kind, pattern), most specific first
    last: frozenset[str]
    this: frozenset[str]
    seasons: dict[str, str]
    days_back: dict[str, int]     # "this morning" -> 0, "last night" -> 1
    offsets: dict[str, tuple[int, str]]   # "last week" -> (-1, "week"), dateparser's own relative phrases
    units: dict[str, str]                 # "weeks" -> "week"


def _alternation(words: object) -> str:
    ordered = sorted({str(w).lower() for w in words if w}, key=len, reverse=True)  # type: ignore[attr-defined]
    return "|".join(re.escape(w) for w in ordered) or r"(?!x)x"


def _dateparser_info(code: str) -> dict[str, Any]:
    from dateparser.languages.loader import default_loader

    try:
        return dict(default_loader.get_locale(code).info)
    except (KeyError, ValueError):
        return {}


def _month_names(lang: Language, info: dict[str, Any]) -> dict[str, int]:
    months: dict[str, int] = {}
    for i, name in enumerate(MONTHS, start=1):
        own = lang.get("dates", "months")[i - 1]
        for word in [*(info.get(name) or []), own]:
            if len(word) >= 4 or word.lower() == own.lower():
                months[word.lower()] = i
    return months


def _weekday_names(lang: Language, info: dict[str, Any]) -> dict[str, int]:
    return {word.lower(): i for i, name in enumerate(WEEKDAYS)
            for word in [*(info.get(name) or []), lang.get("dates", "weekdays")[i]] if len(word) >= 5}


def _relative_phrases(info: dict[str, Any]) -> list[str]:
    return [p for key, phrases in (info.get("relative-type") or {}).items()
            if any(u in key for u in _UNITS) for p in phrases if len(p) >= 3]


def _offsets(info: dict[str, Any]) -> dict[str, tuple[int, str]]:
    """dateparser's relative phrases with a day, week, month or year count: "last week" -> (-1, "week")."""
    out = {}
    for key, phrases in (info.get("relative-type") or {}).items():
        match = re.fullmatch(r"(in )?(\d+) (day|week|month|year)( ago)?", key)
        if match:
            n = int(match[2]) * (1 if match[1] else -1)
            out.update({p.lower(): (n, match[3]) for p in phrases})
    return out


def _shift(ref: datetime, n: int, unit: str) -> datetime:
    if unit == "day":
        return ref + timedelta(days=n)
    if unit == "week":
        return ref + timedelta(weeks=n)
    if unit == "month":
        return _add_months(ref.replace(day=1), n).replace(hour=ref.hour, minute=ref.minute)
    return ref.replace(year=ref.year + n, day=min(ref.day, 28) if ref.month == 2 else ref.day)


def _counted(span: _Span, vocab: _Vocabulary, ref: datetime) -> tuple[Window, datetime] | None:
    """"last week", "next month", "two days ago" from the tables alone (dateparser's parse is slow)."""
    text = " ".join(span.text.lower().split())
    found = vocab.offsets.get(text)
    if found is None and span.kind.endswith(":ago"):
        words = [w.lower() for w in re.findall(r"\w+", _with_digits(text, vocab))]
        number = next((int(w) for w in words if w.isdigit()), None)
        unit = next((vocab.units[w] for w in words if w in vocab.units), None)
        found = (-number, unit) if number is not None and unit is not None else None
    if found is None:
        return None
    moment = _shift(ref, *found)
    grain = found[1] if found[1] in ("week", "month", "year") else "day"
    window = _window(moment, grain, span.text)
    return window, (window.start if grain in ("month", "year") else moment)


def _days_back(lang: Language) -> dict[str, int]:
    return {w.lower(): back for key, back in (("today", 0), ("yesterday", 1)) for w in lang.own("time", key, []) or []}


def _own_words(lang: Language, key: str) -> set[str]:
    return {w.lower() for w in lang.own("time", key, []) or []}


@cache
def _vocabulary(code: str) -> _Vocabulary:
    """Month, weekday, unit and relative words of a language, from dateparser's data and our table."""
    lang = language.get(code)
    info = _dateparser_info(code)
    months, weekdays = _month_names(lang, info), _weekday_names(lang, info)
    numbers = {str(k).lower(): int(v) for k, v in (lang.own("time", "numbers", {}) or {}).items()}
    units = [w for u in _UNITS for w in info.get(u, []) if len(w) >= 3]
    ago = info.get("ago", [])
    relative = _relative_phrases(info)
    last, this = _own_words(lang, "last"), _own_words(lang, "this")
    seasons = {w.lower(): s for s in SEASONS for w in lang.own("time", s, []) or []}
    weekend = lang.own("time", "weekend", []) or []
    days_back = _days_back(lang)
    before = lang.own("time", "before_month", []) or []
    # One-letter names keep the patterns below readable: month, weekday, unit, number.
    M, W, U = _alternation(months), _alternation(weekdays), _alternation(units)  # noqa: N806
    N = r"\d{1,3}|" + _alternation(numbers)  # noqa: N806
    mods = _alternation(last | this)
    articles = r"(?:(?:the|el|la|le|der|die|das|l')\s*)?"
    b, e = r"(?<!\w)", r"(?!\w)"
    patterns = (
        ("iso", re.compile(r"\b\d{4}-\d{2}-\d{2}\b")),
        ("date", re.compile(rf"{b}\d{{1,2}}(?:st|nd|rd|th|er|º|\.)?\s+(?:de\s+|of\s+)?(?:{M})\.?"
                            rf"(?:,?\s+(?:de\s+)?\d{{4}})?{e}", re.I)),
        ("date", re.compile(rf"{b}(?:{M})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?{e}", re.I)),
        ("date", re.compile(rf"{b}(?:{M})\s+(?:de\s+)?\d{{4}}{e}", re.I)),
        ("month", re.compile(rf"{b}(?:{_alternation(before)}|{mods})\s+({M}){e}", re.I)),
        ("ago", re.compile(rf"{b}(?:{_alternation(ago)})\s+(?:{N})\s+(?:{U}){e}"
                           rf"|{b}(?:{N})\s+(?:{U})\s+(?:{_alternation(ago)}){e}", re.I)),
        ("relative", re.compile(rf"{b}(?:{_alternation(relative)}){e}", re.I)),
        ("daypart", re.compile(rf"{b}(?:{_alternation(days_back)}){e}", re.I)),
        ("season", re.compile(rf"{b}(?:(?:{mods})\s+{articles})?(?:{_alternation(seasons)})(?:\s+(?:{mods}))?"
                              rf"(?:\s+(?:of\s+|de\s+)?\d{{4}})?{e}", re.I)),
        ("weekend", re.compile(rf"{b}(?:(?:{mods})\s+{articles})?(?:{_alternation(weekend)})(?:\s+(?:{mods}))?{e}",
                               re.I)),
        ("weekday", re.compile(rf"{b}(?:(?:{mods})\s+)?(?:{W})(?:\s+(?:{mods}))?{e}", re.I)),
        ("year", re.compile(r"(?<![\d-])(?:19|20)\d{2}(?![\d-])")),
    )
    return _Vocabulary(months, weekdays, numbers, patterns, frozenset(last), frozenset(this), seasons, days_back,
                       _offsets(info), {w.lower(): u for u in _UNITS for w in info.get(u, []) if len(w) >= 3})


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    kind: str
    text: str


def _spans(text: str, codes: list[str]) -> list[_Span]:
    """Time phrases in ``text``, longest first where they overlap, in text order."""
    found: list[_Span] = []
    for code in codes:
        for kind, pattern in _vocabulary(code).patterns:
            for match in pattern.finditer(text):
                if match.group(0).strip():
                    found.append(_Span(match.start(), match.end(), f"{code}:{kind}", match.group(0)))
    kept: list[_Span] = []
    for span in sorted(found, key=lambda s: (-(s.end - s.start), s.start)):
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


@lru_cache(maxsize=32)
def _parser(code: str, base: datetime) -> Any:
    from dateparser.date import DateDataParser

    return DateDataParser(languages=[code], settings={
        "RELATIVE_BASE": base, "PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": True})


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _month_start(year: int, month: int, like: datetime) -> datetime:
    return _midnight(like).replace(year=year, month=month, day=1)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    return moment.replace(year=index // 12, month=index % 12 + 1, day=1)


def _window(moment: datetime, grain: str, text: str) -> Window:
    day = _midnight(moment)
    if grain == "week":
        start = day - timedelta(days=day.weekday())
        return Window(start, start + timedelta(days=7), "week", text)
    if grain == "month":
        start = day.replace(day=1)
        return Window(start, _add_months(start, 1), "month", text)
    if grain == "year":
        start = day.replace(month=1, day=1)
        return Window(start, start.replace(year=start.year + 1), "year", text)
    return Window(day, day + timedelta(days=1), "day", text)


def _modifier(words: list[str], vocab: _Vocabulary) -> str:
    if any(w in vocab.last for w in words):
        return "last"
    if any(w in vocab.this for w in words):
        return "this"
    return ""


def _season(span: _Span, vocab: _Vocabulary, ref: datetime) -> Window:
    words = language.words_of(span.text)
    name = next(vocab.seasons[w] for w in words if w in vocab.seasons)
    first = SEASONS[name]
    year_match = re.search(r"\d{4}", span.text)

    def occurrence(year: int) -> Window:
        start = _month_start(year, first, ref)
        return Window(start, _add_months(start, 3), "season", span.text, name)

    if year_match:
        return occurrence(int(year_match[0]))
    mod = _modifier(words, vocab)
    candidates = [occurrence(y) for y in (ref.year + 1, ref.year, ref.year - 1, ref.year - 2)]
    if mod == "last":      # the latest one that is over
        return next(w for w in candidates if w.end <= ref)
    return next(w for w in candidates if w.start <= ref)   # the current or latest one


def _weekend(span: _Span, vocab: _Vocabulary, ref: datetime) -> Window:
    day = _midnight(ref)
    saturday = day - timedelta(days=(day.weekday() - 5) % 7)
    if _modifier(language.words_of(span.text), vocab) == "last" and saturday + timedelta(days=2) > ref:
        saturday -= timedelta(days=7)
    return Window(saturday, saturday + timedelta(days=2), "weekend", span.text)


def _weekday(span: _Span, vocab: _Vocabulary, ref: datetime) -> Window:
    words = language.words_of(span.text)
    target = next(vocab.weekdays[w] for w in words if w in vocab.weekdays)
    back = (ref.weekday() - target) % 7
    if back == 0 and _modifier(words, vocab) == "last":
        back = 7
    return _window(ref - timedelta(days=back), "day", span.text)


def _with_digits(text: str, vocab: _Vocabulary) -> str:
    """Number words as digits ("dos semanas" -> "2 semanas"): some of dateparser's languages lack them."""
    return re.sub(r"[^\W\d_]+", lambda m: str(vocab.numbers.get(m[0].lower(), m[0])), text)


@lru_cache(maxsize=4096)
def _resolve(span: _Span, ref: datetime) -> tuple[Window, datetime] | None:
    """(window, moment) of one phrase; the moment keeps ``ref``'s clock time (we rarely know the hour).

    Cached: a question's evidence resolves the same "yesterday" of the same turn more than once."""
    code, kind = span.kind.split(":")
    vocab = _vocabulary(code)
    simple = _resolve_simple(span, kind, vocab, ref)
    if simple is not None or kind in ("season", "weekend", "weekday", "daypart", "year"):
        return simple
    counted = _counted(span, vocab, ref) if kind in ("relative", "ago") else None
    return counted if counted is not None else _parse(span, code, kind, vocab, ref)


def _resolve_simple(span: _Span, kind: str, vocab: _Vocabulary, ref: datetime) -> tuple[Window, datetime] | None:
    """Seasons, weekends, weekdays, day parts and years, from the tables alone."""
    if kind == "season":
        window = _season(span, vocab, ref)
        return window, window.start
    if kind == "weekend":
        window = _weekend(span, vocab, ref)
        return window, window.start.replace(hour=ref.hour, minute=ref.minute)
    if kind == "weekday":
        window = _weekday(span, vocab, ref)
        return window, window.start.replace(hour=ref.hour, minute=ref.minute, second=ref.second)
    if kind == "daypart":
        moment = ref - timedelta(days=vocab.days_back[" ".join(span.text.lower().split())])
        return _window(moment, "day", span.text), moment
    if kind == "year":
        window = _window(ref.replace(year=int(span.text), month=1, day=1), "year", span.text)
        return window, window.start
    return None


def _parse(span: _Span, code: str, kind: str, vocab: _Vocabulary, ref: datetime) -> tuple[Window, datetime] | None:
    """dateparser's reading of a phrase ("in June", "3 May 2026", "hace dos semanas")."""
    phrase = span.text
    if kind == "month":      # "in June": the month word alone
        phrase = next(w for w in re.findall(r"[^\W\d_]+", span.text) if w.lower() in vocab.months)
    base = ref.replace(tzinfo=None, microsecond=0)
    data = _parser(code, base).get_date_data(_with_digits(phrase, vocab))
    if data is None or data.date_obj is None:
        return None
    found = data.date_obj.replace(tzinfo=ref.tzinfo)
    grain = {"week": "week", "month": "month", "year": "year"}.get(data.period or "day", "day")
    if kind in ("date", "iso"):
        grain = "month" if not re.search(r"\d{1,2}(?!\d)", re.sub(r"\d{4}", "", phrase)) else "day"
    window = _window(found, grain, span.text)
    moment = found.replace(hour=ref.hour, minute=ref.minute, second=ref.second, microsecond=ref.microsecond)
    return window, (window.start if grain in ("month", "year") else moment)


def _languages(text: str, lang: Language | None) -> list[str]:
    lang = lang or language.detect(text)
    return list(dict.fromkeys([lang.code, language.DEFAULT]))


def phrase_spans(text: str, lang: Language | None = None) -> list[tuple[int, int]]:
    """Where the time phrases of ``text`` are (start, end), in text order."""
    return [(s.start, s.end) for s in _spans(text, _languages(text, lang))]


def find_windows(text: str, ref: datetime, lang: Language | None = None) -> list[tuple[Window, datetime]]:
    """Every time phrase of ``text`` as (window, moment), in text order."""
    out = []
    for span in _spans(text, _languages(text, lang)):
        resolved = _resolve(span, ref)
        if resolved is not None:
            out.append(resolved)
    return out


def find_window(text: str, ref: datetime, lang: Language | None = None) -> Window | None:
    """The time window a question names ("in June", "last summer", "vor zwei Wochen"); None if none.

    Two phrases ("from June to August") make one window from the first start to the last end.
    """
    found = [w for w, _ in find_windows(text, ref, lang)]
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    first, last = found[0], found[-1]
    if last.start < first.start and last.grain in ("month", "season"):   # "from June to August": the next August
        last = Window(last.start.replace(year=last.start.year + 1), last.end.replace(year=last.end.year + 1),
                      last.grain, last.text, last.season)
    return Window(min(first.start, last.start), max(first.end, last.end), "range", f"{first.text} … {last.text}")


RELATIVE = ("relative", "daypart", "ago", "weekday", "weekend", "season", "month")


@dataclass(frozen=True)
class Said:
    """A relative time phrase of a sentence ("yesterday", "last week"), resolved against when it was said."""

    start: int
    end: int
    text: str
    window: Window
    said: datetime
    kind: str = ""      # the phrase's language and kind: "en:weekday", "en:relative" ...

    def describe(self, lang: Language | None = None) -> str:
        """What the phrase meant, as a reader needs it: "7 May 2023", "Friday 14 July 2023" (a day named by its
        weekday), "the week before 9 June 2023", "the weekend before 17 July 2023", "June 2023", "2022" (a week
        or a month a phrase names is only as precise as the phrase)."""
        lang = lang or language.get(None)
        w = self.window
        said_week = _window(self.said, "week", "")
        said_on = f"{short(self.said, lang)} {self.said.year}"
        if w.grain == "week" and w.start in (said_week.start - timedelta(days=7), said_week.end):
            key = "week_before" if w.start < said_week.start else "week_after"
            return lang.fill("dates", key, date=said_on)
        if w.grain == "weekend" and timedelta(0) <= self.said - w.end < timedelta(days=7):
            return lang.fill("dates", "weekend_before", date=said_on)
        if w.grain == "day" and self._names_weekday():
            return describe(w.start, lang)
        if w.grain == "month":
            return lang.fill("dates", "month_year", month=_month_name(lang, w.start.month), year=w.start.year)
        if w.grain == "year":
            return str(w.start.year)
        if w.grain in ("season", "weekend", "range", "week"):
            return w.label(lang)
        return f"{short(w.start, lang)} {w.start.year}"


    def _names_weekday(self) -> bool:
        """"last Friday", "am Freitag": the reader is told the weekday too."""
        if ":" not in self.kind:
            return False
        weekdays = _vocabulary(self.kind.split(":")[0]).weekdays
        return any(w in weekdays for w in language.words_of(self.text))


def relative_phrases(text: str, said: datetime, lang: Language | None = None) -> list[Said]:
    """The relative time phrases of ``text`` ("yesterday", "last Saturday", "two weeks ago", "next month"),
    each resolved against ``said``; absolute dates ("on 3 May") are left as written."""
    out = []
    for span in _spans(text, _languages(text, lang)):
        if span.kind.endswith(":weekday") and re.match(r"[,\s]*\d", text[span.end:]):
            continue    # "Monday 8 May 2023": the weekday of a written date
        if span.kind.split(":")[1] not in RELATIVE or (span.kind.endswith(":month") and
                                                         not _modifier(language.words_of(span.text),
                                                                       _vocabulary(span.kind.split(":")[0]))):
            continue
        resolved = _resolve(span, said)
        if resolved is not None:
            out.append(Said(span.start, span.end, span.text, resolved[0], said, span.kind))
    return out


def parse_when(text: str, ref: datetime, lang: Language | None = None) -> datetime | None:
    """The day ``text`` talks about, relative to ``ref`` (the turn time); None if it names none.

    Only day-sized phrases ("yesterday", "on 3 May", "two days ago", "last Sunday") give a
    moment: "in June" or "last year" say too little to date a sighting.
    """
    for window, moment in find_windows(text, ref, lang):
        if window.grain in ("day", "week", "weekend"):
            return moment
    return None


def stated_days(text: str, ref: datetime, lang: Language | None = None) -> list[tuple[datetime, bool]]:
    """The days an answer states, each with whether it named the year ("on 5 October" -> (5 Oct, False))."""
    out = []
    for span in _spans(text, _languages(text, lang)):
        if span.kind.split(":")[1] not in ("date", "iso"):
            continue
        resolved = _resolve(span, ref)
        if resolved is not None and resolved[0].grain == "day":
            out.append((resolved[0].start, bool(re.search(r"\d{4}", span.text))))
    return out


def same_day(stated: tuple[datetime, bool], moment: datetime) -> bool:
    day, has_year = stated
    local = moment.astimezone(day.tzinfo) if day.tzinfo and moment.tzinfo else moment
    return (day.month, day.day) == (local.month, local.day) and (not has_year or day.year == local.year)


@cache
def _all_month_names() -> dict[str, frozenset[int]]:
    """Month names of every language dateparser knows (4 letters or more): "giugno" -> {6}."""
    from dateparser.data import languages_info

    names: dict[str, set[int]] = {}
    for code in languages_info.language_order:
        info = _dateparser_info(code)
        for month, key in enumerate(MONTHS, start=1):
            for word in info.get(key) or []:
                if len(word) >= 4:
                    names.setdefault(word.lower(), set()).add(month)
    return {k: frozenset(v) for k, v in names.items()}


def supports_window(text: str, window: Window, ref: datetime) -> bool:
    """Whether ``text`` names a time inside ``window``: a phrase of a covered language, a month name of any
    language dateparser knows ("giugno"), or a year. A window the words do not name is someone's guess."""
    if any(w.start < window.end and window.start < w.end for w, _ in find_windows(text, ref)):
        return True
    months = {m for word in language.words_of(text) for m in _all_month_names().get(word, ())}
    spanned = {(window.start + timedelta(days=d)).month for d in range(0, max(1, (window.end - window.start).days))}
    years = {int(y) for y in re.findall(r"(?<!\d)(?:19|20)\d{2}(?!\d)", text)}
    return bool(months & spanned) or any(window.start.year <= y <= window.end.year for y in years)


def warm_up() -> None:
    """Load dateparser's data for every covered language now, so the first question does not wait."""
    ref = datetime(2026, 1, 1)
    for code in language.codes():
        vocab = _vocabulary(code)
        month = next(iter(vocab.months))
        _parser(code, ref).get_date_data(month)
