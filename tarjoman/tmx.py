"""TMX 1.4b export of approved translations, for CAT tools that do not read PO."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from . import __version__

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def tmx_document(pairs: list[tuple[str, str, str, str]], source_lang: str = "fa") -> str:
    """``pairs`` of (unit id, target language, source, translation) → a TMX document."""
    root = ET.Element("tmx", version="1.4")
    ET.SubElement(root, "header", {
        "creationtool": "Tarjoman", "creationtoolversion": __version__, "segtype": "sentence",
        "o-tmf": "gettext PO", "adminlang": "en", "srclang": source_lang, "datatype": "plaintext",
        "creationdate": datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
    })
    body = ET.SubElement(root, "body")
    for unit_id, lang, source, translation in pairs:
        tu = ET.SubElement(body, "tu", tuid=unit_id)
        for code, text in ((source_lang, source), (lang, translation)):
            tuv = ET.SubElement(tu, "tuv", {XML_LANG: code})
            ET.SubElement(tuv, "seg").text = text
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
