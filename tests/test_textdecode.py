"""Decoding what sources send: lying declarations, stray bytes, double encoding, per field."""

import codecs
from pathlib import Path

import pytest

from tests.conftest import REAL, needs_real, run, write_config
from tests.feed_server import FeedServer
from watcher.textdecode import as_utf8_xml, declared_encoding, decode_bytes

LATIN9 = b'<?xml version="1.0" encoding="ISO-8859-15"?>'


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        pytest.param("<t>Décret — l’œuvre</t>".encode(), "", "<t>Décret — l’œuvre</t>", id="utf8"),
        pytest.param(
            "<t>Décret relatif à l’identification biométrique</t>".encode().replace(
                "’".encode(), b"\x92"
            ),
            "",
            "<t>Décret relatif à l’identification biométrique</t>",
            id="utf8-with-one-cp1252-byte",
        ),
        pytest.param(
            "<t>Réunion «publique» à 18 h</t>".encode().replace("é".encode(), b"\xe9", 1),
            "",
            "<t>Réunion «publique» à 18 h</t>",
            id="utf8-with-one-latin1-letter",
        ),
        pytest.param(
            LATIN9 + "<t>Délibération</t>".encode(),
            "",
            LATIN9.decode() + "<t>Délibération</t>",
            id="declares-latin9-sends-utf8",
        ),
        pytest.param(
            LATIN9 + "<t>Coût : 5 €</t>".encode("iso-8859-15"),
            "",
            LATIN9.decode() + "<t>Coût : 5 €</t>",
            id="latin9-as-declared",
        ),
        pytest.param(
            "<t>Région — l’été</t>".encode("cp1252"),
            "text/xml",
            "<t>Région — l’été</t>",
            id="undeclared-cp1252",
        ),
        pytest.param(
            "<t>Ville de Sète</t>".encode("cp1252"),
            "text/html; charset=ISO-8859-1",
            "<t>Ville de Sète</t>",
            id="http-header-charset",
        ),
        pytest.param(
            "<t>RÃ©gion â€” dÃ©libÃ©rations</t>".encode(),
            "",
            "<t>Région — délibérations</t>",
            id="double-encoded",
        ),
        pytest.param(
            "<a>DÃ©cret biomÃ©trique</a><b>réunion à 18 h</b>".encode(),
            "",
            "<a>Décret biométrique</a><b>réunion à 18 h</b>",
            id="double-encoded-field-beside-a-clean-one",
        ),
        pytest.param(
            "<a>DÃ©cret</a>\n<b>Arrêté de l’été</b>".encode("cp1252"),
            "",
            "<a>Décret</a>\n<b>Arrêté de l’été</b>",
            id="cp1252-document-with-a-double-encoded-field",
        ),
        pytest.param(
            codecs.BOM_UTF16_LE + "<t>Décret</t>".encode("utf-16-le"),
            "",
            "<t>Décret</t>",
            id="utf16-bom",
        ),
        pytest.param(
            "<t>AT&amp;T &lt;b&gt; “guillemets” ﬁn Ａ</t>".encode(),
            "",
            "<t>AT&amp;T &lt;b&gt; “guillemets” ﬁn Ａ</t>",
            id="entities-quotes-ligatures-widths-kept",
        ),
    ],
)
def test_decode_bytes(body: bytes, content_type: str, expected: str) -> None:
    assert decode_bytes(body, content_type) == expected


def test_declared_encoding_prefers_the_document_over_the_header() -> None:
    body = LATIN9 + b"<t/>"
    assert declared_encoding(body, "text/xml; charset=utf-8") == "iso-8859-15"
    assert declared_encoding(b"<t/>", "text/xml; charset=UTF-8") == "utf-8"
    assert declared_encoding(b"<t/>") is None


def test_as_utf8_xml_says_utf8_in_its_declaration() -> None:
    body = LATIN9 + "<t>Délibération</t>".encode("iso-8859-15")
    assert as_utf8_xml(body) == '<?xml version="1.0" encoding="utf-8"?><t>Délibération</t>'.encode()


@needs_real
def test_real_documents_in_utf8_come_back_unchanged() -> None:
    for path in sorted((REAL / "dila").glob("*.xml")):
        body = path.read_bytes()
        assert decode_bytes(body) == body.decode("utf-8"), path.name


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Journal officiel</title><link>https://jo.example/</link><description>d</description>
<item><title>Décret n° 2024-512 du 3 juin 2024 relatif à l’identification biométrique des voyageurs</title>
<link>https://jo.example/jorf/id/JORFTEXT000049000001</link><guid>JORFTEXT000049000001</guid>
<pubDate>Tue, 04 Jun 2024 06:00:00 +0200</pubDate><description>Le décret encadre l’usage des bornes.</description></item>
</channel></rss>
"""


def test_stray_cp1252_byte_in_a_utf8_title_alerts_with_the_title_right(
    workdir: Path, feed_server: FeedServer
) -> None:
    body = RSS.encode("utf-8").replace("’".encode(), b"\x92")
    assert b"\x92" in body and "é".encode() in body
    url = feed_server.serve("/jo.rss", body)
    write_config(workdir, [{"id": "jo", "name": "JO", "url": url, "backfill": "true"}])

    result = run("poll")

    assert result.code == 0, result.err
    assert (
        "Décret n° 2024-512 du 3 juin 2024 relatif à l’identification biométrique des voyageurs"
        in result.out
    )
    assert "Mots-clés : biométrique" in result.out
    assert "Ã" not in result.out and "\ufffd" not in result.out
