"""The generic adapter: any allow-listed host without a vendor module.

A link that serves a photo directly is accepted as is (the bytes are
sniffed, see ``service.resolve``); for an HTML page it reads download links,
og:image and image-looking links, like every HTML adapter.
"""

from __future__ import annotations

from functions.photos.importing.adapters.base import HtmlAdapter


class GenericAdapter(HtmlAdapter):
    name = "generic"


GENERIC = GenericAdapter()
