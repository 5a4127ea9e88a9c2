"""Key sentences and tags of a Korean and an English diary transcript (TextRank)."""

from __future__ import annotations

from functions.diary.analysis.ranking import is_korean, summarise

KOREAN = (
    "오늘은 아침 일찍 일어나서 한강 공원에서 달리기를 했다. 달리기를 하고 나니 기분이 정말 좋았다. "
    "점심에는 친구와 함께 김치찌개를 먹었다. 친구는 다음 주에 제주도 여행을 간다고 했다. "
    "나도 제주도 여행을 가고 싶어졌다. 저녁에는 집에서 영화를 보면서 쉬었다. "
    "내일은 회사에서 중요한 발표가 있어서 조금 긴장된다. 발표 준비를 더 해야겠다."
)
ENGLISH = (
    "This morning I went running in the park before work. The run in the park made me feel "
    "great. At lunch I met my friend Sarah and we talked about her trip to Japan. Sarah is "
    "flying to Tokyo next week. I would love to visit Japan too. In the evening I watched a "
    "movie at home. Tomorrow I have an important presentation at work, so I am a little "
    "nervous. I need to prepare the presentation tonight."
)


def test_korean_diary_gets_three_of_its_sentences_in_spoken_order_and_noun_tags() -> None:
    assert is_korean(KOREAN)
    summary = summarise(KOREAN)
    assert len(summary.key_sentences) == 3
    positions = [KOREAN.index(sentence) for sentence in summary.key_sentences]
    assert positions == sorted(positions)
    assert 1 <= len(summary.tags) <= 8
    # Nouns of what the day was about, not particles or verbs.
    assert {"제주도", "발표", "친구"} <= set(summary.tags)
    assert not {"했다", "은", "를"} & set(summary.tags)


def test_english_diary_gets_three_of_its_sentences_and_topic_tags() -> None:
    assert not is_korean(ENGLISH)
    summary = summarise(ENGLISH)
    assert len(summary.key_sentences) == 3
    assert all(sentence in ENGLISH for sentence in summary.key_sentences)
    assert 1 <= len(summary.tags) <= 8
    assert {"presentation", "park", "japan"} <= set(summary.tags)
    assert not {"the", "and", "i", "to"} & set(summary.tags)


def test_short_or_empty_transcripts_keep_what_they_have() -> None:
    assert summarise("").key_sentences == [] and summarise("").tags == []
    one = summarise("I baked bread with my grandmother.")
    assert one.key_sentences == ["I baked bread with my grandmother."]
    assert "bread" in one.tags


def test_a_sentence_said_again_is_one_key_sentence() -> None:
    summary = summarise(ENGLISH + " " + ENGLISH)
    assert len(summary.key_sentences) == 3 == len(set(summary.key_sentences))


def test_a_sentence_said_again_in_other_case_is_still_one_key_sentence() -> None:
    # As whisper wrote it in the 60-second bench diary: the repeat began mid-sentence.
    summary = summarise(ENGLISH + " " + ENGLISH[0].lower() + ENGLISH[1:])
    said = [" ".join(s.casefold().split()) for s in summary.key_sentences]
    assert len(said) == 3 == len(set(said))
