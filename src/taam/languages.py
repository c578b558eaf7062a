"""Languages and their facts: ISO 639-3 codes, byte premiums, URIEL, ISO 639-1 and Hub codes.

Every fact lives in one data file, ``resources/languages.json``, one row per language: adding
a language is one row there plus the run's config. The byte premium BP of a language is the
number of UTF-8 bytes it needs for the same content relative to English (Arnett, Chang &
Bergen 2024); each value comes with its source, a run can override any value, and
:func:`measure_byte_premium` measures one from parallel text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from taam.errors import LanguageError

ISO_639_3 = re.compile(r"^[a-z]{3}(_[A-Z][a-z]{3})?$")


@dataclass(frozen=True)
class BytePremium:
    value: float
    source: str


@dataclass(frozen=True)
class LanguageFacts:
    byte_premium: BytePremium | None  # None: the run's config must give one
    uriel: str  # the code URIEL/lang2vec knows it by (``zho`` → ``cmn``)
    iso639_1: str
    hub: str  # the language tag of Hugging Face Hub metadata


@cache
def language_table() -> dict[str, LanguageFacts]:
    """The shipped rows of ``resources/languages.json``: code → facts."""
    raw = json.loads(resources.files("taam").joinpath("resources/languages.json").read_text())
    return {
        code: LanguageFacts(
            BytePremium(row["byte_premium"], row["byte_premium_source"])
            if row["byte_premium"] is not None
            else None,
            row["uriel"],
            row["iso639_1"],
            row["hub"],
        )
        for code, row in raw.items()
        if not code.startswith("_")
    }


def facts(code: str) -> LanguageFacts | None:
    """The row of ``code``, else of its language without the script (``zho_Hans`` → ``zho``)."""
    table = language_table()
    return table.get(code) or table.get(code.split("_")[0])


def check_code(code: str) -> str:
    """Return ``code`` if it looks like an ISO 639-3 code (optionally ``_Script``)."""
    if not isinstance(code, str) or not ISO_639_3.match(code):
        raise LanguageError(
            f"'{code}' is not an ISO 639-3 language code; use three lower-case letters "
            f"such as eng, nld or zho (optionally with a script, e.g. zho_Hans)."
        )
    return code


def byte_premiums(
    languages: Iterable[str], overrides: Mapping[str, float] | None = None
) -> dict[str, BytePremium]:
    """Byte premium per language: the override if given, else the shipped table."""
    table = language_table()
    overrides = dict(overrides or {})
    result = {}
    for code in languages:
        check_code(code)
        if code in overrides:
            value = float(overrides[code])
            if not value > 0:
                raise LanguageError(f"byte premium for '{code}' must be positive, got {value}.")
            result[code] = BytePremium(value, "user override")
        elif code in table and table[code].byte_premium is not None:
            result[code] = table[code].byte_premium
        else:
            known = ", ".join(sorted(c for c, row in table.items() if row.byte_premium))
            raise LanguageError(
                f"no byte premium is known for '{code}' (the shipped table has {known}). "
                f"Set one with data.byte_premium.{code}=<value>, or measure it from parallel "
                f"text with taam.languages.measure_byte_premium(text_{code}, text_eng)."
            )
    return result


def measure_byte_premium(text: str | Iterable[str], english: str | Iterable[str]) -> float:
    """BP = bytes_L / bytes_eng over parallel text (the same content in both)."""

    def nbytes(t: str | Iterable[str]) -> int:
        return len(t.encode()) if isinstance(t, str) else sum(len(s.encode()) for s in t)

    eng = nbytes(english)
    if eng == 0:
        raise LanguageError("the English side of the parallel text is empty.")
    return nbytes(text) / eng


def uriel_code(code: str) -> str:
    """The code URIEL/lang2vec uses for ``code`` (``zho`` -> ``cmn``)."""
    row = facts(code)
    return row.uriel if row else code.split("_")[0]


def hub_language(code: str) -> str:
    """The Hub's language tag for ``code`` (ISO 639-1 where there is one: ``nld`` -> ``nl``)."""
    row = facts(code)
    return row.hub if row else code.split("_")[0]
