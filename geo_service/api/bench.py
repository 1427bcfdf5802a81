"""A route returning fixed bytes, the ceiling against which bench/tiles.py measures tile throughput.

Mounted only when GEO_SERVICE_BENCHMARK_ROUTES is true; it goes through the same middleware as tiles.
"""

from fastapi import APIRouter, Response

router = APIRouter(include_in_schema=False)
FIXED = bytes(range(256)) * 8  # 2 KiB, the size of a typical z12 tile


@router.get("/_bench/fixed/{z}/{x}/{name}")
async def fixed(z: int, x: int, name: str) -> Response:
    return Response(FIXED, media_type="application/vnd.mapbox-vector-tile", headers={"ETag": '"fixed"'})
