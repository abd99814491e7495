"""Text shown to people about text they sent: characters named by their code point."""

import unicodedata

_C0_NAMES = (
    "NULL|START OF HEADING|START OF TEXT|END OF TEXT|END OF TRANSMISSION|ENQUIRY|ACKNOWLEDGE|BELL|"
    "BACKSPACE|CHARACTER TABULATION|LINE FEED|LINE TABULATION|FORM FEED|CARRIAGE RETURN|SHIFT OUT|"
    "SHIFT IN|DATA LINK ESCAPE|DEVICE CONTROL ONE|DEVICE CONTROL TWO|DEVICE CONTROL THREE|"
    "DEVICE CONTROL FOUR|NEGATIVE ACKNOWLEDGE|SYNCHRONOUS IDLE|END OF TRANSMISSION BLOCK|CANCEL|"
    "END OF MEDIUM|SUBSTITUTE|ESCAPE|INFORMATION SEPARATOR FOUR|INFORMATION SEPARATOR THREE|"
    "INFORMATION SEPARATOR TWO|INFORMATION SEPARATOR ONE"
).split("|")
_CATEGORY_NAMES = {"Cc": "<control>", "Cs": "<surrogate>", "Co": "<private use>", "Cn": "<unassigned>"}


def character_name(ch: str) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE`: a character named by its code point, readable whatever it is."""
    code = ord(ch)
    if code < 32:
        name = _C0_NAMES[code]
    elif code == 127:
        name = "DELETE"
    else:
        name = unicodedata.name(ch, "") or _CATEGORY_NAMES.get(unicodedata.category(ch), "")
    return f"U+{code:04X} {name}".rstrip()
