"""Municipality boundaries for the map page: load a GeoJSON, reproject TM35FIN to WGS84.

Statistics Finland publishes boundaries in EPSG:3067 (ETRS-TM35FIN). Plotly needs
longitude/latitude, so the inverse Transverse Mercator projection (GRS80 ellipsoid,
central meridian 27°E, scale 0.9996, false easting 500 000 m) is done here with
Krüger's series as given in the Finnish public-administration recommendation
JHS 197 -- exact to well under a millimetre in Finland, no extra dependency.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np

A = 6378137.0
F = 1 / 298.257222101
K0 = 0.9996
LON0 = math.radians(27.0)
FALSE_EASTING = 500000.0
_N = F / (2 - F)
_A1 = A / (1 + _N) * (1 + _N**2 / 4 + _N**4 / 64)
_E = math.sqrt(2 * F - F**2)
_H = (
    _N / 2 - 2 / 3 * _N**2 + 37 / 96 * _N**3 - 1 / 360 * _N**4,
    _N**2 / 48 + _N**3 / 15 - 437 / 1440 * _N**4,
    17 / 480 * _N**3 - 37 / 840 * _N**4,
    4397 / 161280 * _N**4,
)
CODE_PROPERTIES = ("natcode", "kunta", "KUNTA", "municipality_code", "code")


def tm35fin_to_wgs84(easting, northing) -> tuple[np.ndarray, np.ndarray]:
    """(longitude, latitude) in degrees of EPSG:3067 coordinates (arrays or scalars)."""
    xi = np.asarray(northing, dtype=float) / (_A1 * K0)
    eta = (np.asarray(easting, dtype=float) - FALSE_EASTING) / (_A1 * K0)
    xi_p, eta_p = xi.copy(), eta.copy()
    for j, h in enumerate(_H, start=1):
        xi_p -= h * np.sin(2 * j * xi) * np.cosh(2 * j * eta)
        eta_p -= h * np.cos(2 * j * xi) * np.sinh(2 * j * eta)
    beta = np.arcsin(np.sin(xi_p) / np.cosh(eta_p))
    lon = LON0 + np.arcsin(np.tanh(eta_p) / np.cos(beta))
    q = np.arcsinh(np.tan(beta))
    q2 = q.copy()
    for _ in range(6):  # converges to machine precision in 3-4 rounds
        q2 = q + _E * np.arctanh(_E * np.tanh(q2))
    lat = np.arctan(np.sinh(q2))
    return np.degrees(lon), np.degrees(lat)


def _is_projected(collection: dict) -> bool:
    name = str((collection.get("crs") or {}).get("properties", {}).get("name", ""))
    if "3067" in name:
        return True
    first = collection["features"][0]["geometry"]["coordinates"]
    while isinstance(first[0], list):
        first = first[0]
    return abs(first[0]) > 360


def _reproject(coords):
    """Reproject a ring (list of [x, y]) or any nesting of rings."""
    if coords and not isinstance(coords[0][0], list):
        array = np.asarray(coords, dtype=float)
        lon, lat = tm35fin_to_wgs84(array[:, 0], array[:, 1])
        return np.round(np.column_stack([lon, lat]), 5).tolist()
    return [_reproject(part) for part in coords]


def _feature_code(properties: dict) -> str | None:
    for key in CODE_PROPERTIES:
        if properties.get(key) not in (None, ""):
            return str(properties[key]).zfill(3)
    return None


@functools.cache
def load_boundaries(path: str) -> dict | None:
    """The GeoJSON at `path` in WGS84, each feature's `id` its 3-digit municipality code."""
    file = Path(path)
    if not file.exists():
        return None
    collection = json.loads(file.read_text(encoding="utf-8"))
    projected = _is_projected(collection)
    features = []
    for feature in collection["features"]:
        geometry = dict(feature["geometry"])
        if projected:
            geometry["coordinates"] = _reproject(geometry["coordinates"])
        code = _feature_code(feature.get("properties") or {})
        features.append({"type": "Feature", "id": code, "properties": {"code": code},
                         "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}
