"""TAAM: Typology-Aware Adaptive Mixing for multilingual BabyLMs."""

__version__ = "0.1.0"
