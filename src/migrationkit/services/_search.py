"""The overviews' search field: a term found in any column, ignoring case."""

from __future__ import annotations


def matches(term: str, *columns: str) -> bool:
    """True for an empty term, or when every word of the term is in some column."""
    if not term:
        return True
    haystack = "\n".join(columns).casefold()
    return all(word in haystack for word in term.casefold().split())
