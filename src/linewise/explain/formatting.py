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


# How a Chinese text names a currency's unit after the figure (元 for yuan and NT dollars).
_ZH_UNITS = {"CNY": "元", "TWD": "元", "HKD": "港元", "MOP": "澳门元", "USD": "美元", "EUR": "欧元",
             "GBP": "英镑", "JPY": "日元", "SGD": "新加坡元"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def amount(minor: float, currency: str, lang: Language) -> str:
    """``37,500元`` / ``TWD 37,500``; cents shown only when there are any."""
    text = format_amount(int(minor), currency)
    if to_major(int(minor), currency) == int(to_major(int(minor), currency)):
        text = text.split(".")[0]
    if lang == "zh":
        unit = _ZH_UNITS.get(currency)
        return f"{text}{unit}" if unit else f"{text} {currency}"
    return f"{currency} {text}"


def day(when: date, lang: Language) -> str:
    """``2026年3月31日`` / ``31 March 2026``."""
    if lang == "zh":
        return f"{when.year}年{when.month}月{when.day}日"
    return f"{when.day} {_MONTHS[when.month - 1]} {when.year}"


def feature_value(value: float, unit: str, currency: str, lang: Language) -> str:
    """A feature's value in its unit (see :class:`linewise.features.FeatureSpec`)."""
    if math.isnan(value):
        return "未知" if lang == "zh" else "unknown"
    if unit == "minor_units":
        return amount(round(value), currency, lang)
    if unit == "ratio":
        return f"{value:.0%}"
    number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if unit == "months":
        return f"{number}个月" if lang == "zh" else f"{number} month{'' if value == 1 else 's'}"
    if unit == "days":
        return f"{number}天" if lang == "zh" else f"{number} day{'' if value == 1 else 's'}"
    return number
