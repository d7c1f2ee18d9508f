"""What an e-mail looks like besides its text: its languages, and the simple HTML alternative
sent beside the plain text.

The HTML is made from the text, so the two always say the same: a blank line starts a
paragraph, lines that begin with ``- `` or ``1. `` become a list, a web address becomes a
link, and the signature after ``-- `` stays apart. Every character of the text is escaped, so
a name such as ``<script>`` reads as itself.
"""

from __future__ import annotations

import html
import re

#: The languages an e-mail is written in; Dutch first, as the product speaks.
LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"

_BULLET = re.compile(r"^\s*- (.*)$")
_NUMBERED = re.compile(r"^\s*\d+\. (.*)$")
_ADDRESS = re.compile(r"https?://[^\s<>\"']+")
_SIGNATURE = "-- "


def known_language(language: str | None) -> str:
    """``language`` when the product writes in it, else Dutch."""
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def _inline(line: str) -> str:
    """One line escaped, its web addresses as links."""
    parts, start = [], 0
    for found in _ADDRESS.finditer(line):
        parts.append(html.escape(line[start : found.start()]))
        address = html.escape(found.group())
        parts.append(f'<a href="{address}">{address}</a>')
        start = found.end()
    parts.append(html.escape(line[start:]))
    return "".join(parts)


def _block(lines: list[str]) -> str:
    """A paragraph, or a list when every line but a leading one is an item."""
    kinds = [(_BULLET.match(line), _NUMBERED.match(line)) for line in lines]
    for index, tag in ((0, "ul"), (1, "ol")):
        items = [kind[index] for kind in kinds]
        first_item = next((n for n, item in enumerate(items) if item), None)
        if first_item is None or not all(items[first_item:]):
            continue
        lead = "<br>\n".join(_inline(line) for line in lines[:first_item])
        listed = "\n".join(
            f"<li>{_inline(item.group(1))}</li>" for item in items[first_item:] if item
        )
        return (f"<p>{lead}</p>\n" if lead else "") + f"<{tag}>\n{listed}\n</{tag}>"
    return "<p>" + "<br>\n".join(_inline(line) for line in lines) + "</p>"


def html_alternative(text: str, language: str, subject: str) -> str:
    """``text`` as a small HTML document in ``language``, titled ``subject``."""
    body, _, signature = text.partition(f"\n{_SIGNATURE}\n")
    blocks = [block.strip("\n").split("\n") for block in re.split(r"\n\s*\n", body.strip())]
    rendered = "\n".join(_block(lines) for lines in blocks if lines != [""])
    if signature.strip():
        rendered += f'\n<p style="color:#555">{_SIGNATURE}<br>\n{_inline(signature.strip())}</p>'
    return (
        f'<!doctype html>\n<html lang="{known_language(language)}">\n<head>\n'
        f'<meta charset="utf-8">\n<title>{html.escape(subject)}</title>\n</head>\n'
        '<body style="font-family:sans-serif;line-height:1.5;max-width:40em">\n'
        f"{rendered}\n</body>\n</html>\n"
    )
