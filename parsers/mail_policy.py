"""The email policy every parse uses: the modern one, with parsed header fields kept."""

from __future__ import annotations

from email.headerregistry import BaseHeader, HeaderRegistry
from email.policy import default as default_email_policy
from typing import Any


class CachedHeaders:
    """The standard library's header registry, remembering the fields it has parsed.

    The modern policy parses a header field again each time it is asked for one (a
    part's Content-Type is read a dozen times while an email is unpacked), and its
    parser is pure Python: about 0.2 ms a field. A parsed field is immutable, so each
    (name, value) is parsed once. Bounded; pickles empty (emails cross to and from
    the reading process).
    """

    LIMIT = 4096  # fields kept
    LONGEST = 2000  # characters: longer values are parsed each time, never kept

    def __init__(self) -> None:
        self._registry = HeaderRegistry()
        self._parsed: dict[tuple[str, str], BaseHeader] = {}

    def __call__(self, name: str, value: str) -> Any:
        if len(value) > self.LONGEST:
            return self._registry(name, value)
        key = (name, value)
        parsed = self._parsed.get(key)
        if parsed is None:
            parsed = self._registry(name, value)
            if len(self._parsed) >= self.LIMIT:
                self._parsed.clear()
            self._parsed[key] = parsed
        return parsed

    def __getitem__(self, name: str) -> Any:
        # The policy asks the registry for a field's class (its max_count).
        return self._registry[name]

    def map_to_type(self, name: str, cls: Any) -> None:
        self._registry.map_to_type(name, cls)
        self._parsed.clear()

    def __reduce__(self) -> tuple[type[CachedHeaders], tuple[()]]:
        return CachedHeaders, ()


# The modern policy (`email.policy.default`), with parsed header fields remembered.
default_policy = default_email_policy.clone(header_factory=CachedHeaders())
