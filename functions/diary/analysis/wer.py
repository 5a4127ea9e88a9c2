"""Word error rate of a transcript against what was said (the speech tests and bench)."""

from __future__ import annotations

import re
import unicodedata

WORD = re.compile(r"[\w']+")


# Spellings that say the same words (the references spell out what was read aloud).
SAME_WORDS = {"mr": "mister", "mrs": "missus", "dr": "doctor"}


def words(text: str) -> list[str]:
    """Casefolded words; hyphens split ("ill-disposed" is "ill disposed"), titles spelt out."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("-", " ")
    return [SAME_WORDS.get(w, w) for w in WORD.findall(text)]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, by edit distance."""
    ref, hyp = words(reference), words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, ref_word in enumerate(ref, 1):
        current = [i]
        for j, hyp_word in enumerate(hyp, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word))
            )
        previous = current
    return previous[-1] / max(len(ref), 1)
