"""Words: the token patterns and stop-word lists that ingest, summary, topics and stories share.

One place decides what a word is, so that near-duplicate hashing, summary terms, keyphrases,
trending terms and event keys agree; each pattern is named for the job it does. Pure: imports
nothing of briefbot's, only sumy's shipped stop-word lists (no data download).
"""

from __future__ import annotations

import re
from functools import lru_cache

# Any run of word characters (letters, digits, _): canonical text for hashing, line keys.
WORD = re.compile(r"\w+")
# A term of running text: letters with inner ' and - (sumy's Tokenizer._is_word), no digits.
LETTER_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’-](?=[^\W\d_]))*")
# A name-like token: letters or digits, inner ' ’ -, e.g. "covid-19", "Xi's", "F-35".
TERM = re.compile(r"[^\W_](?:[\w'’-]*[^\W_])?")

# Function words: a high share of them is the cheapest "this is running prose" signal.
_STOPWORD_TEXT = """
a about above after again against all also am an and any are as at be because been
before being below between both but by can could did do does doing down during each
few for from further had has have having he her here hers herself him himself his
how i if in into is it its itself just me more most my myself no nor not now of off
on once only or other our ours out over own same she should so some such than that
the their theirs them then there these they this those through to too under until up
very was we were what when where which while who whom why will with would you your
yours said says told after which been may might must since though still yet would
its it's i'm we're they're don't le la les de des du un une et est en que qui dans
pour pas sur au aux der die das und ist nicht mit den ein eine zu von el los las del
y es por con para una se lo il di che per o os as do da dos das no na nos nas em um
uma com não mais ao você sempre como mas foi ele ela são está het een van op voor niet
met zijn dat aan ook als bij nog maar wordt im auf für sich dem auch es sie wir ich wie
nach bei aus hat wird noch um nur oder so wenn kann sind war este esta pero más sus le
fue ha han muy sin sobre también entre ya cuando hasta donde ne si ci della delle dei
nel sono alla anche gli più come ma questo avec sont ont mais ou où cette ces nous vous
leur elle il ils été être fait plus par
yang dan di ke dari ini itu untuk dengan tidak ada akan pada juga dalam karena atau oleh
sebagai kita kami mereka saya anda bisa sudah telah
и в не на что с по как это к но из у за о от он она они мы вы я его её их был была было
были же бы для до при так все уже или если только
"""
FUNCTION_WORDS = frozenset(_STOPWORD_TEXT.split())
"""Function words of the common news languages: a high share of them marks prose."""


# Words a search leaves out when the query has other words (storage.search takes them as an
# argument): in nearly every article, so they cost the most to match and rank for the least.
SEARCH_STOP_WORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "he",
        "her", "his", "in", "is", "it", "its", "near", "not", "of", "on", "or", "she", "that",
        "the", "their", "they", "this", "to", "was", "were", "what", "when", "where", "which",
        "who", "will", "with",
    }
)  # fmt: skip
"""English function words /search drops next to other words (and never falls back to)."""


@lru_cache(maxsize=64)
def stop_words(language: str = "english") -> frozenset[str]:
    """sumy's stop-word list for ``language`` (a sumy language name); empty when it has none.

    Args:
        language: e.g. "english", "german"; sumy's names, not ISO codes.
    """
    from sumy.utils import get_stop_words

    try:
        return frozenset(get_stop_words(language))
    except LookupError:
        return frozenset()
