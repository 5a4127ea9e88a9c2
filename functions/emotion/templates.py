"""A template row as a drawable ``cheese_ml.emoji.EmojiTemplate``.

Built-in templates come from the pinned emoji sets in the ML image; users'
templates from their seven checked uploads in S3, decoded with the hardened
decoder. Loaded templates are kept per process (a template's images never
change once it is ready), a few at a time.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock

from cheese_ml.emoji import EmojiTemplate, builtin_template
from cheese_ml.images import decode_emoji_image
from functions.emotion import storage
from functions.emotion.service import EXPRESSIONS

CACHED_TEMPLATES = 16

_cache: OrderedDict[str, EmojiTemplate] = OrderedDict()
_lock = Lock()


def drawable(
    template_id: str,
    owner_id: str | None,
    builtin_set: str | None,
    name: str,
    attribution: str | None,
) -> EmojiTemplate:
    if builtin_set is not None:
        return builtin_template(builtin_set)
    with _lock:
        cached = _cache.get(template_id)
        if cached is not None:
            _cache.move_to_end(template_id)
            return cached
    rasters = {
        expression: decode_emoji_image(
            storage.read(storage.template_image_key(str(owner_id), template_id, expression))
        )
        for expression in EXPRESSIONS
    }
    template = EmojiTemplate.from_rasters(name, attribution or "", rasters)
    with _lock:
        _cache[template_id] = template
        if len(_cache) > CACHED_TEMPLATES:
            _cache.popitem(last=False)
    return template
