"""TBX (ISO 30042, the TBX-Basic ``martif`` form) for CAT tools and Weblate.

One ``termEntry`` per Persian term, a ``langSet`` per language; the status is
each term's ``administrativeStatus`` (approved → preferred, proposed → admitted,
rejected → deprecated), the kind a ``subjectField``, the decision a ``transacGrp``.
Reading refuses DTDs and never resolves entities or touches the network.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from ..errors import GlossaryError
from ..languages import UnknownLanguage, canonical
from .table import MAX_BYTES, Row, Table

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_STATUS_TO_TBX = {"approved": "preferredTerm-admn-sts", "proposed": "admittedTerm-admn-sts", "rejected": "deprecatedTerm-admn-sts"}
_TBX_TO_STATUS = {v: k for k, v in _STATUS_TO_TBX.items()} | {"supersededTerm-admn-sts": "rejected"}


def render_tbx(table: Table, title: str) -> bytes:
    martif = ET.Element("martif", {"type": "TBX-Basic", XML_LANG: "fa"})
    header = ET.SubElement(martif, "martifHeader")
    desc = ET.SubElement(ET.SubElement(header, "fileDesc"), "sourceDesc")
    ET.SubElement(desc, "p").text = title
    body = ET.SubElement(ET.SubElement(martif, "text"), "body")
    for index, row in enumerate(table.rows, start=1):
        if not row.term:
            continue
        entry = ET.SubElement(body, "termEntry", {"id": f"t{index}"})
        if row.get("kind"):
            ET.SubElement(entry, "descrip", {"type": "subjectField"}).text = row.get("kind")
        if row.get("note"):
            ET.SubElement(entry, "note").text = row.get("note")
        if row.get("decided_by") or row.get("decided_at"):
            group = ET.SubElement(entry, "transacGrp")
            ET.SubElement(group, "transac", {"type": "transactionType"}).text = "modification"
            if row.get("decided_at"):
                ET.SubElement(group, "date").text = row.get("decided_at")
            if row.get("decided_by"):
                ET.SubElement(group, "transacNote", {"type": "responsibility"}).text = row.get("decided_by")
        for lang, text in [("fa", row.term), *row.renderings().items()]:
            if not text:
                continue
            tig = ET.SubElement(ET.SubElement(entry, "langSet", {XML_LANG: lang}), "tig")
            ET.SubElement(tig, "term").text = text
            ET.SubElement(tig, "termNote", {"type": "administrativeStatus"}).text = _STATUS_TO_TBX[row.status if row.status in _STATUS_TO_TBX else "proposed"]
    ET.indent(martif)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(martif, encoding="utf-8") + b"\n"


def _language(value: str) -> str | None:
    """A langSet's language as a glossary column: ``fa``, ``en``, ``zh-Hans`` (``zh-CN``), None for what is no language."""
    try:
        code = canonical(value, territory=False)
    except UnknownLanguage:
        return None
    return code


def read_tbx(path: Path) -> list[Row]:
    """The entries of a TBX file as glossary rows (``line`` is the entry's position)."""
    data = Path(path).read_bytes()
    if len(data) > MAX_BYTES:
        raise GlossaryError(f"is {len(data) / 1e6:.0f} MB; refusing a TBX file over {MAX_BYTES // 2**20} MB", path=path)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise GlossaryError("declares a DTD or entities (<!DOCTYPE …>); refusing it (entity expansion, external entities)", path=path)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise GlossaryError(f"is not well-formed XML: {exc}", path=path, where=f"line {exc.position[0]}") from None
    if _local(root.tag) not in ("martif", "tbx"):
        raise GlossaryError(f"is not a TBX file (its root element is <{_local(root.tag)}>, not <martif> or <tbx>)", path=path)
    rows = []
    for index, entry in enumerate((e for e in root.iter() if _local(e.tag) in ("termEntry", "conceptEntry")), start=1):
        values: dict[str, str] = {}
        statuses = []
        for child in entry:
            name = _local(child.tag)
            if name == "descrip" and child.get("type") == "subjectField":
                values["kind"] = (child.text or "").strip()
            elif name == "note":
                values["note"] = (child.text or "").strip()
            elif name == "transacGrp":
                for part in child:
                    if _local(part.tag) == "date":
                        values["decided_at"] = (part.text or "").strip()
                    elif _local(part.tag) == "transacNote":
                        values["decided_by"] = (part.text or "").strip()
            elif name == "langSet":
                lang = _language(child.get(XML_LANG) or child.get("lang") or "")
                term = next((t for t in child.iter() if _local(t.tag) == "term"), None)
                if term is None or lang is None:
                    continue
                values["term" if lang == "fa" else lang] = "".join(term.itertext()).strip()
                statuses += [n.text.strip() for n in child.iter() if _local(n.tag) == "termNote" and n.get("type") == "administrativeStatus" and n.text]
        if "term" not in values:
            raise GlossaryError("has an entry without a Persian (fa) term", path=path, where=f"entry {index}")
        status = "approved" if statuses and all(_TBX_TO_STATUS.get(s) == "approved" for s in statuses) else (
            "rejected" if any(_TBX_TO_STATUS.get(s) == "rejected" for s in statuses) else "proposed")
        values["status"] = status
        rows.append(Row(index, values))
    return rows


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
