"""Languages and their facts: ISO 639-3 codes, byte premiums and URIEL codes.

The byte premium BP of a language is the number of UTF-8 bytes it needs for the same
content relative to English (Arnett, Chang & Bergen 2024). The shipped table
(``resources/byte_premium.json``) gives each value with its source; a run can override
any value, and :func:`measure_byte_premium` measures one from parallel text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from taam.errors import LanguageError

# URIEL/lang2vec knows macro-language Chinese only through its members.
URIEL_CODE = {"zho": "cmn"}
ISO_639_3 = re.compile(r"^[a-z]{3}(_[A-Z][a-z]{3})?$")


@dataclass(frozen=True)
class BytePremium:
    value: float
    source: str


@cache
def byte_premium_table() -> dict[str, BytePremium]:
    """The shipped byte-premium table: code -> (value, source)."""
    raw = json.loads(resources.files("taam").joinpath("resources/byte_premium.json").read_text())
    return {
        k: BytePremium(v["value"], v["source"]) for k, v in raw.items() if not k.startswith("_")
    }


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
    table = byte_premium_table()
    overrides = dict(overrides or {})
    result = {}
    for code in languages:
        check_code(code)
        if code in overrides:
            value = float(overrides[code])
            if not value > 0:
                raise LanguageError(f"byte premium for '{code}' must be positive, got {value}.")
            result[code] = BytePremium(value, "user override")
        elif code in table:
            result[code] = table[code]
        else:
            known = ", ".join(sorted(table))
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
    base = code.split("_")[0]
    return URIEL_CODE.get(base, base)
