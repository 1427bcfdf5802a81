"""Map layers as vector (MVT) and raster (PNG) tiles on the WebMercatorQuad grid, with per-zoom simplification."""
