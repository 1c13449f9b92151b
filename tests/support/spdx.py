"""Validating SPDX documents with spdx-tools, the SPDX project's own validator."""

from __future__ import annotations

import re
from pathlib import Path

from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

# spdx-tools checks a download location against a URL pattern that wants a host name
# ending in a 2-5 letter TLD, so it rejects IP-literal URLs such as the fake hub's
# http://127.0.0.1:PORT/kojifiles (SPDX itself takes any URL there). Only that message,
# for exactly such a URL, is set aside; every other finding counts.
_IP_URL = re.compile(r"download_location must be a valid URL .* but is: "
                     r"https?://\d{1,3}(\.\d{1,3}){3}(:\d+)?/\S*$")


def spdx_problems(path: Path) -> list[str]:
    """What spdx-tools finds wrong with the SPDX 2.3 JSON document at ``path``."""
    messages = [m.validation_message for m in validate_full_spdx_document(parse_file(str(path)))]
    return [m for m in messages if not _IP_URL.search(m)]
