"""Mixers: every method that decides the sampling distribution π over languages."""

from taam.mixer.base import MixContext, Mixer, WindowStats

__all__ = ["MixContext", "Mixer", "WindowStats"]
