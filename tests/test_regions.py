"""The shipped feeds.yml watches every regional council, each at its best publication point."""

from pathlib import Path

from tests.conftest import run
from watcher.config import load_config

SHIPPED = Path(__file__).resolve().parents[1] / "feeds.yml"
REGIONS = {
    # the 13 mainland regions
    "Auvergne-Rhône-Alpes",
    "Bourgogne-Franche-Comté",
    "Bretagne",
    "Centre-Val de Loire",
    "Grand Est",
    "Hauts-de-France",
    "Île-de-France",
    "Normandie",
    "Nouvelle-Aquitaine",
    "Occitanie",
    "Pays de la Loire",
    "Provence-Alpes-Côte d'Azur",
    # Corsica and the 5 overseas
    "Corse",
    "Guadeloupe",
    "Martinique",
    "Guyane",
    "La Réunion",
    "Mayotte",
}


def test_shipped_feeds_validates_with_the_18_regions() -> None:
    result = run("--config", str(SHIPPED), "validate")
    assert result.code == 0, result.err

    regional = [s for s in load_config(SHIPPED).sources if s.id.startswith("region-")]
    assert sorted(s.territory or "" for s in regional) == sorted(REGIONS)
    assert all(s.id in result.out for s in regional)


def test_each_region_uses_its_richest_kind() -> None:
    # The councils' sources (prefectures share their territories: Bretagne, Mayotte...).
    kinds = {
        s.territory: s.kind for s in load_config(SHIPPED).sources if s.id.startswith("region-")
    }
    # Agendas before the vote: the WebDélib+ portals.
    for region in ("Auvergne-Rhône-Alpes", "Centre-Val de Loire", "Guyane"):
        assert kinds[region] == "webdelib"
    # SCDL open data where the region publishes it.
    assert kinds["Bretagne"] == kinds["Île-de-France"] == "opendatasoft"
    assert kinds["Normandie"] == "arcgis"
