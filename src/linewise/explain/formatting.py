"""Figures as a customer reads them: amounts, shares, months and dates in zh-CN or en."""

from __future__ import annotations

import math
from datetime import date
from typing import Literal

from linewise.money import format_amount, to_major

__all__ = ["LANGUAGES", "Language", "amount", "check_language", "day", "feature_value"]

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")


def check_language(lang: str) -> Language:
    """``lang`` when it is one linewise writes in; otherwise a ValueError naming the choices."""
    if lang not in LANGUAGES:
        raise ValueError(f"language {lang!r}: one of {', '.join(LANGUAGES)}")
    return lang


# How a Chinese text names a currency: (before the figure, after it). A bare 元 is
# renminbi to a reader, so every other dollar-like currency is named before the figure.
_ZH_NAMES = {
    "CNY": ("", "元"),
    "TWD": ("新台币", "元"),
    "HKD": ("港币", "元"),
    "USD": ("", "美元"),
    "EUR": ("", "欧元"),
    "GBP": ("", "英镑"),
    "JPY": ("", "日元"),
    "KRW": ("", "韩元"),
}
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def amount(minor: float, currency: str, lang: Language) -> str:
    """``新台币37,500元`` / ``TWD 37,500`` (``37,500元`` for CNY); cents shown only when there are any."""
    text = format_amount(int(minor), currency)
    if to_major(int(minor), currency) == int(to_major(int(minor), currency)):
        text = text.split(".")[0]
    if lang == "zh":
        name = _ZH_NAMES.get(currency)
        return f"{name[0]}{text}{name[1]}" if name else f"{text} {currency}"
    return f"{currency} {text}"


def day(when: date, lang: Language) -> str:
    """``2026年3月31日`` / ``31 March 2026``."""
    if lang == "zh":
        return f"{when.year}年{when.month}月{when.day}日"
    return f"{when.day} {_MONTHS[when.month - 1]} {when.year}"


def feature_value(value: float, unit: str, currency: str, lang: Language, *, signed: bool = False) -> str:
    """A feature's value in its unit (see :class:`linewise.features.FeatureSpec`).

    ``signed`` is for a change (a trend), told with its sign either way: ``+12%``, ``-3 days``.
    """
    if math.isnan(value):
        return "未知" if lang == "zh" else "unknown"
    if unit == "minor_units":
        return amount(round(value), currency, lang)
    if unit == "ratio":
        shown = round(value, 2) + 0.0  # never "-0%"
        return f"{'+' if signed and shown > 0 else ''}{shown:.0%}"
    sign = "+" if signed and value > 0 else ""
    number = sign + (f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}")
    if unit == "months":
        return f"{number}个月" if lang == "zh" else f"{number} month{'' if value == 1 else 's'}"
    if unit == "days":
        return f"{number}天" if lang == "zh" else f"{number} day{'' if value == 1 else 's'}"
    return number
