"""Key sentences and tags of a transcript by TextRank, for Korean and English.

Sentences are ranked by PageRank over a graph whose edges are the overlap of
their content words (Mihalcea & Tarau 2004); tags are content words ranked
by PageRank over their co-occurrence within a small window. Korean is split
into sentences and nouns by Kiwi (kiwipiepy, its bundled model); English by
a sentence regex and a stop-word list, since its words need no analyser.
Key sentences keep the order they were said in.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    from kiwipiepy import Kiwi

KEY_SENTENCES = 3
MAX_TAGS = 8
CO_OCCURRENCE_WINDOW = 3
HANGUL = re.compile(r"[\uac00-\ud7a3]")
ENGLISH_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
# Kiwi's noun tags: common (NNG), proper (NNP), and foreign words / Latin letters (SL).
KOREAN_NOUN_TAGS = ("NNG", "NNP", "SL")
# Function words and diary filler that make poor tags.
ENGLISH_STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "get",
        "got",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "let",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "really",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "today",
        "day",
        "thing",
        "things",
        "lot",
        "much",
        "going",
        "gonna",
        "one",
        "two",
        "like",
        "know",
        "think",
        "said",
        "say",
        "says",
        "make",
        "made",
        "take",
        "took",
        "want",
        "went",
        "go",
        "goes",
        "come",
        "came",
        "well",
        "yeah",
        "okay",
        "oh",
        "um",
        "uh",
        "ever",
        "still",
        "even",
        "back",
        "way",
    ]
)


@dataclass(frozen=True)
class TextSummary:
    key_sentences: list[str]
    tags: list[str]


def is_korean(text: str) -> bool:
    """True when Hangul makes up a fair part of the letters (a Korean transcript)."""
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(1 for c in letters if HANGUL.match(c)) / len(letters) > 0.3


@cache
def _kiwi() -> Kiwi:
    from kiwipiepy import Kiwi

    return Kiwi(num_workers=-1)  # -1: no worker threads, the caller's one core


def split_sentences(text: str, korean: bool) -> list[str]:
    if korean:
        return [s.text.strip() for s in _kiwi().split_into_sents(text) if s.text.strip()]
    return [s.strip() for s in ENGLISH_SENTENCE_END.split(text) if s.strip()]


def content_words(sentence: str, korean: bool) -> list[str]:
    """The words that carry meaning, normalised: Korean nouns, English non-stop words."""
    if korean:
        return [
            token.form.casefold()
            for token in _kiwi().tokenize(sentence)
            if token.tag in KOREAN_NOUN_TAGS and len(token.form) > 1
        ]
    return [
        word.casefold().strip("'-")
        for word in ENGLISH_WORD.findall(sentence)
        if word.casefold() not in ENGLISH_STOP_WORDS and len(word) > 2
    ]


def _sentence_similarity(a: list[str], b: list[str]) -> float:
    shared = len(set(a) & set(b))
    if shared == 0 or len(a) < 2 or len(b) < 2:
        return 0.0
    return shared / (math.log(len(a)) + math.log(len(b)))


def key_sentences(sentences: list[str], words: list[list[str]], count: int) -> list[str]:
    if len(sentences) <= count:
        return list(sentences)
    graph = nx.Graph()
    graph.add_nodes_from(range(len(sentences)))
    for i in range(len(sentences)):
        for j in range(i + 1, len(sentences)):
            weight = _sentence_similarity(words[i], words[j])
            if weight > 0:
                graph.add_edge(i, j, weight=weight)
    scores = nx.pagerank(graph, weight="weight")
    # Ties (no shared words anywhere) fall back to the earliest sentences.
    best = sorted(range(len(sentences)), key=lambda i: (-scores[i], i))[:count]
    return [sentences[i] for i in sorted(best)]


def tags(words: list[list[str]], count: int) -> list[str]:
    graph = nx.Graph()
    frequency: dict[str, int] = {}
    for sentence_words in words:
        for i, word in enumerate(sentence_words):
            frequency[word] = frequency.get(word, 0) + 1
            graph.add_node(word)
            for other in sentence_words[i + 1 : i + CO_OCCURRENCE_WINDOW]:
                if other != word:
                    previous = graph.get_edge_data(word, other, {"weight": 0})["weight"]
                    graph.add_edge(word, other, weight=previous + 1)
    if graph.number_of_nodes() == 0:
        return []
    scores = nx.pagerank(graph, weight="weight")
    ranked = sorted(scores, key=lambda w: (-scores[w], -frequency[w], w))
    return ranked[:count]


def summarise(
    text: str, sentence_count: int = KEY_SENTENCES, tag_count: int = MAX_TAGS
) -> TextSummary:
    """The transcript's key sentences (in spoken order) and tags (best first)."""
    korean = is_korean(text)
    # A sentence said twice is one candidate: key sentences are three different ones
    # (told apart casefolded: a repeat at the start of a new sentence is capitalised).
    first_said: dict[str, str] = {}
    for sentence in split_sentences(text, korean):
        first_said.setdefault(" ".join(sentence.casefold().split()), sentence)
    sentences = list(first_said.values())
    words = [content_words(s, korean) for s in sentences]
    return TextSummary(key_sentences(sentences, words, sentence_count), tags(words, tag_count))
