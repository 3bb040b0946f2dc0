"""The word tokenizer that every task applies to raw user text.

Benchmark files come already tokenized (whitespace-separated), and the models must see user text split the
same way: words keep inner apostrophes and periods (`i'd`, `o'clock`, `a.m.`), a few abbreviations keep their
final period (`st.`), and any other punctuation becomes a token of its own.
"""

import re

_ABBREVIATIONS = r"(?:st|mr|mrs|ms|dr|jr|sr|vs|etc|mt|ft)\."
_WORD = r"\w+(?:['’.\-]\w+)*\.?(?<=\w\.\w\.)|\w+(?:['’.\-]\w+)*"
_TOKEN = re.compile(rf"(?i:\b{_ABBREVIATIONS}(?!\w))|{_WORD}|[^\w\s]")


def word_tokenize(text: str, lowercase: bool = False) -> list[str]:
    """Split `text` into word and punctuation tokens; `a.m.` and `st.` stay whole.

    >>> word_tokenize("I'd like a flight to St. Louis at 8 a.m., please!")
    ["I'd", 'like', 'a', 'flight', 'to', 'St.', 'Louis', 'at', '8', 'a.m.', ',', 'please', '!']
    """
    if lowercase:
        text = text.lower()
    return _TOKEN.findall(text)


def word_offsets(text: str) -> list[tuple[int, int]]:
    """The (start, end) character offsets in `text` of each token word_tokenize(text) finds, in order.

    Taggers tokenize the text as written, so tokens keep their casing and spans can point back into it; a
    lowercasing model lowercases the tokens afterwards.
    """
    return [match.span() for match in _TOKEN.finditer(text)]
