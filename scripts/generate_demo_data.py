"""Generate the small synthetic datasets of the demo programme into challenges/casablanca-2017/data/.

Deterministic (every file has its own seeded random generator, fixed dates): running it again rewrites the
same bytes, so importing again stores no new file version. The figures are invented — plausible orders of
magnitude for Casablanca, not measurements — and every dataset says so in its title and description.

    .venv/bin/python scripts/generate_demo_data.py [--out challenges/casablanca-2017/data]
"""

import argparse
import csv
import io
import json
import math
import random
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "challenges" / "casablanca-2017" / "data"
START = date(2026, 9, 7)  # a Monday after the summer holidays


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _days(count: int) -> list[date]:
    return [START + timedelta(days=n) for n in range(count)]


# ---- Casa Tram: boardings per station per hour ------------------------------------------------------------

TRAM_STATIONS = [
    # station, line, weight (relative attendance)
    ("Sidi Moumen", "T1", 1.3),
    ("Hay Raja", "T1", 0.9),
    ("Ibn Tachfine", "T1", 0.8),
    ("Casa Voyageurs", "T1", 1.6),
    ("Place Mohammed V", "T1", 1.4),
    ("Place des Nations Unies", "T1", 1.5),
    ("Abdelmoumen", "T1", 1.0),
    ("Facultés", "T1", 1.2),
    ("Ain Diab Plage", "T1", 0.6),
    ("Lissasfa", "T2", 0.9),
    ("Derb Sultan", "T2", 1.1),
    ("Sidi Bernoussi", "T2", 1.2),
]


def tram() -> str:
    rng = random.Random(2017_01)
    rows = []
    for day in _days(7):
        weekend = day.weekday() >= 5
        for hour in range(6, 24):
            morning = math.exp(-((hour - 8) ** 2) / 3)
            evening = math.exp(-((hour - 18) ** 2) / 4)
            profile = 0.25 + (0.6 if weekend else 1.4) * morning + 1.1 * evening
            for station, line, weight in TRAM_STATIONS:
                boardings = max(0, round(rng.gauss(180 * weight * profile, 20)))
                alightings = max(0, round(boardings * rng.uniform(0.8, 1.2)))
                rows.append((day.isoformat(), hour, line, station, boardings, alightings))
    header = ("date", "heure", "ligne", "station", "montees", "descentes")
    return _csv(header, rows)


# ---- Lydec: pressure and flow per sector, and the leaks found -------------------------------------------

WATER_SECTORS = ["Anfa-03", "Maârif-07", "Ain Sebaâ-02", "Hay Hassani-05", "Sidi Bernoussi-01", "Ben Msik-04"]
LEAKS = [
    # sector, first day (0-based), first hour, extra flow m3/h, kind
    ("Maârif-07", 2, 3, 14.0, "casse de conduite"),
    ("Ain Sebaâ-02", 4, 1, 6.5, "fuite sur branchement"),
    ("Hay Hassani-05", 5, 22, 9.0, "joint défectueux"),
]


def water_flow() -> str:
    rng = random.Random(2017_02)
    rows = []
    for s, sector in enumerate(WATER_SECTORS):
        base_flow = 80 + 25 * s
        for d, day in enumerate(_days(7)):
            for hour in range(24):
                demand = 0.55 + 0.45 * math.sin(math.pi * max(0, hour - 5) / 17) if 5 <= hour <= 22 else 0.5
                flow = base_flow * demand + rng.gauss(0, 2.5)
                pressure = 3.6 - 1.1 * demand + rng.gauss(0, 0.05)
                leak = next((x for x in LEAKS if x[0] == sector and (d, hour) >= (x[1], x[2]) and d <= x[1] + 1), None)
                if leak:
                    flow += leak[3]
                    pressure -= 0.25
                timestamp = datetime(day.year, day.month, day.day, hour).isoformat(timespec="minutes")
                rows.append((timestamp, sector, f"{flow:.1f}", f"{pressure:.2f}", 1 if leak else 0))
    return _csv(("horodatage", "secteur", "debit_m3h", "pression_bar", "fuite_en_cours"), rows)


def water_leaks() -> str:
    rng = random.Random(2017_03)
    rows = []
    for n, (sector, day, hour, extra, kind) in enumerate(LEAKS, start=1):
        start = datetime.combine(START + timedelta(days=day), datetime.min.time()) + timedelta(hours=hour)
        found = start + timedelta(hours=rng.randint(10, 30))
        repaired = found + timedelta(hours=rng.randint(4, 14))
        lost = extra * (repaired - start).total_seconds() / 3600
        rows.append(
            (f"F-{n:03d}", sector, kind, start.isoformat(timespec="minutes"), found.isoformat(timespec="minutes"),
             repaired.isoformat(timespec="minutes"), f"{lost:.0f}")
        )  # fmt: skip
    header = ("reference", "secteur", "type", "debut_estime", "detectee_le", "reparee_le", "volume_perdu_m3")
    return _csv(header, rows)


# ---- City / Lydec: bin fill levels at collection time ------------------------------------------------------

DISTRICTS = [
    # arrondissement, centre latitude, centre longitude
    ("Anfa", 33.5890, -7.6320),
    ("Maârif", 33.5780, -7.6330),
    ("Sidi Belyout", 33.5960, -7.6170),
    ("Hay Mohammadi", 33.5950, -7.5640),
    ("Ben Msik", 33.5540, -7.5690),
    ("Sidi Moumen", 33.5800, -7.5200),
]


def bins() -> str:
    rng = random.Random(2017_04)
    points = []
    for district, lat, lon in DISTRICTS:
        for n in range(1, 9):
            points.append(
                (f"{district[:3].upper()}-{n:02d}", district, lat + rng.uniform(-0.008, 0.008),
                 lon + rng.uniform(-0.008, 0.008), rng.choice([660, 770, 1100]), rng.uniform(0.5, 1.3))
            )  # fmt: skip
    rows = []
    for day in _days(14):
        market = day.weekday() in (4, 6)
        for point, district, lat, lon, litres, busy in points:
            fill = min(100, max(5, round(rng.gauss(62 * busy * (1.25 if market else 1), 12))))
            overflow = fill >= 100 and rng.random() < 0.6
            rows.append(
                (day.isoformat(), point, district, f"{lat:.5f}", f"{lon:.5f}", litres, fill, 1 if overflow else 0)
            )
    header = ("date", "point_collecte", "arrondissement", "latitude", "longitude", "volume_bac_l",
              "remplissage_pct", "debordement")  # fmt: skip
    return _csv(header, rows)


# ---- inwi: Wi-Fi sessions per public hotspot ------------------------------------------------------------------

HOTSPOTS = [
    ("WIFI-01", "Place Mohammed V", 1.5),
    ("WIFI-02", "Parc de la Ligue Arabe", 1.2),
    ("WIFI-03", "Corniche Ain Diab", 1.4),
    ("WIFI-04", "Gare Casa Voyageurs", 1.6),
    ("WIFI-05", "Marché central", 0.9),
    ("WIFI-06", "Place des Nations Unies", 1.1),
    ("WIFI-07", "Médiathèque Mosquée Hassan II", 0.8),
    ("WIFI-08", "Parc de Sidi Moumen", 0.6),
]


def wifi() -> str:
    rng = random.Random(2017_05)
    rows = []
    for day in _days(7):
        weekend = day.weekday() >= 5
        for hour in range(24):
            activity = 0.05 + math.exp(-((hour - (17 if weekend else 13)) ** 2) / 18)
            for code, place, weight in HOTSPOTS:
                sessions = max(0, round(rng.gauss(70 * weight * activity * (1.3 if weekend else 1), 6)))
                devices = round(sessions * rng.uniform(0.7, 0.95))
                volume = sessions * rng.uniform(25, 90)
                duration = rng.uniform(8, 35) if sessions else 0
                rows.append((day.isoformat(), hour, code, place, sessions, devices, f"{volume:.0f}", f"{duration:.1f}"))
    header = ("date", "heure", "borne", "lieu", "sessions", "appareils_distincts", "volume_mo", "duree_moyenne_min")
    return _csv(header, rows)


# ---- Michelin: road incidents near schools (GeoJSON points) ---------------------------------------------------

SCHOOLS = [
    ("École primaire Al Massira, Hay Mohammadi", 33.5935, -7.5612),
    ("Collège Ibn Toumert, Maârif", 33.5772, -7.6395),
    ("École Oued Eddahab, Ben Msik", 33.5528, -7.5705),
    ("Lycée Moulay Abdellah, Derb Sultan", 33.5765, -7.6004),
    ("École Ennakhil, Sidi Moumen", 33.5823, -7.5187),
]
INCIDENT_KINDS = ["piéton heurté", "deux-roues", "collision véhicules", "quasi-accident signalé"]


def incidents() -> str:
    rng = random.Random(2017_06)
    features = []
    for n in range(1, 121):
        school, lat, lon = rng.choice(SCHOOLS)
        distance = rng.uniform(20, 300)
        angle = rng.uniform(0, 2 * math.pi)
        point_lat = lat + distance * math.cos(angle) / 111_000
        point_lon = lon + distance * math.sin(angle) / (111_000 * math.cos(math.radians(lat)))
        day = START + timedelta(days=rng.randint(0, 89))
        hour = rng.choice([7, 8, 8, 8, 11, 12, 12, 13, 16, 17, 17, 18, 20])
        kind = rng.choices(INCIDENT_KINDS, weights=[3, 4, 3, 5])[0]
        severity = "grave" if kind == "piéton heurté" and rng.random() < 0.3 else rng.choice(["léger", "matériel"])
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(point_lon, 6), round(point_lat, 6)]},
                "properties": {
                    "id": f"INC-{n:04d}",
                    "date": day.isoformat(),
                    "heure": hour,
                    "type": kind,
                    "gravite": severity,
                    "ecole_proche": school,
                    "distance_ecole_m": round(distance),
                    "heure_entree_sortie": hour in (8, 12, 13, 17, 18),
                },
            }
        )
    collection = {"type": "FeatureCollection", "name": "incidents-abords-ecoles", "features": features}
    return json.dumps(collection, ensure_ascii=False, indent=1) + "\n"


# ---- LafargeHolcim: concrete sample strengths per building site -------------------------------------------------

SITES = [
    ("CH-01", "Résidence Sidi Maârouf", "Sidi Maârouf", "C25/30"),
    ("CH-02", "Immeuble Bourgogne", "Anfa", "C30/37"),
    ("CH-03", "Logements sociaux Lahraouiyine", "Lahraouiyine", "C25/30"),
    ("CH-04", "École Hay Hassani", "Hay Hassani", "C25/30"),
    ("CH-05", "Centre commercial Ain Sebaâ", "Ain Sebaâ", "C35/45"),
]
CLASS_TARGET = {"C25/30": 25, "C30/37": 30, "C35/45": 35}


def concrete() -> str:
    rng = random.Random(2017_07)
    rows = []
    n = 0
    for code, site, district, strength_class in SITES:
        target = CLASS_TARGET[strength_class]
        quality = rng.uniform(0.85, 1.15)  # some sites cure and dose better than others
        for batch in range(12):
            cast = START + timedelta(days=batch * 6 + rng.randint(0, 3))
            water_cement = rng.uniform(0.45, 0.65)
            slump = round(rng.gauss(110 + 200 * (water_cement - 0.5), 15))
            for age in (7, 28):
                n += 1
                mean = (target + 8) * quality * (1.3 - water_cement) * (0.68 if age == 7 else 1.0)
                strength = max(8.0, rng.gauss(mean, 2.2))
                conform = "" if age == 7 else ("oui" if strength >= target else "non")
                rows.append(
                    (f"E-{n:04d}", code, site, district, cast.isoformat(), age, strength_class,
                     f"{water_cement:.2f}", slump, f"{strength:.1f}", conform)
                )  # fmt: skip
    header = ("echantillon", "chantier", "nom_chantier", "arrondissement", "date_coulage", "age_jours",
              "classe_visee", "rapport_e_c", "affaissement_mm", "resistance_mpa", "conforme_28j")  # fmt: skip
    return _csv(header, rows)


FILES: dict[str, Callable[[], str]] = {
    "tram-montees-horaires.csv": tram,
    "reseau-eau-debit-pression.csv": water_flow,
    "reseau-eau-fuites.csv": water_leaks,
    "bacs-remplissage.csv": bins,
    "wifi-sessions-bornes.csv": wifi,
    "incidents-abords-ecoles.geojson": incidents,
    "beton-resistances-chantiers.csv": concrete,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder to write into")
    out: Path = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    for name, build in FILES.items():
        content = build().encode("utf-8")
        (out / name).write_bytes(content)
        print(f"{name:<36} {len(content):>8} bytes")


if __name__ == "__main__":
    main()
