"""Hand labels for the fixture photos.

FACE_CENTRES lists every face of the six face-api group photos (22) and of the
other one- and five-face photos, as an approximate centre point in pixels of the
upright photo. The points were read off a detector run and each face crop was
then checked by eye (every entry is a real face, no face is missing); a
detection matches a labelled face when its box contains the point.

SMILING: 1 = clearly smiling (mouth corners raised, usually teeth showing),
0 = clearly not smiling (neutral, pout, talking, other posed expression),
None = ambiguous (closed-lip half smile, smirk), left out of the AUC.
One labeller (the author), by eye, on the face crops; 15 smiling, 11 not, 10 ambiguous.
"""

from __future__ import annotations

# photo -> [(centre x, centre y, smiling)]
FACES: dict[str, list[tuple[int, int, int | None]]] = {
    "sample1.jpg": [(508, 485, None), (930, 546, 0), (1578, 328, 1)],
    "sample2.jpg": [(449, 294, 0), (989, 342, 0), (1542, 280, 0)],
    "sample3.jpg": [(691, 473, 0), (1194, 366, 1), (1589, 437, 1)],
    "sample4.jpg": [(341, 318, None), (751, 197, 1), (1075, 305, None), (1350, 271, 1)],
    "sample5.jpg": [
        (472, 1025, None),
        (689, 546, 1),
        (868, 222, 0),
        (1204, 318, None),
        (1507, 534, None),
    ],
    "sample6.jpg": [(365, 629, None), (773, 485, 1), (1276, 449, 0), (1590, 413, 1)],
    "multi_face.jpg": [
        (264, 121, 1),
        (364, 297, 1),
        (478, 265, None),
        (583, 371, 1),
        (739, 353, 1),
    ],
    "0-f1-su-ph.jpg": [(258, 282, 0)],
    "0-f15-hao-ph.jpg": [(249, 290, 1)],
    "15-f13-anc-ph.jpg": [(242, 298, 0)],
    "45-m7-di-ph.jpg": [(173, 326, 0)],
    "obama.jpg": [(493, 259, 1)],
    "obama2.jpg": [(341, 439, 0)],
    "obama3.jpg": [(780, 430, None)],
    "biden.jpg": [(572, 365, None)],
    "single_face.jpg": [(282, 274, 1)],
}

# Photos of one person; every other labelled face is someone else.
SAME_PERSON = ("obama.jpg", "obama2.jpg", "obama3.jpg")
