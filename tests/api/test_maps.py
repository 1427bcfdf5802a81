"""GET /api/v1/maps/{level}/{code}.png: a picture for reports."""

import io

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image


def test_territory_picture(client: TestClient) -> None:
    # the CA du Beauvaisis is reached by a direct local action (Itiner'air's épicerie itinérante)
    response = client.get("/api/v1/maps/epci/200067999.png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB")).astype(int)
    height, width, _ = image.shape
    assert width >= 1200 and 500 < height < 1400
    greenish = (image[:, :, 1] - image[:, :, 0] > 30) & (image[:, :, 1] > 120)
    assert greenish.mean() > 0.2  # mostly green
    assert (
        client.get("/api/v1/maps/epci/200067999.png", headers={"If-None-Match": response.headers["etag"]}).status_code
        == 304
    )


def test_picture_errors(client: TestClient) -> None:
    assert client.get("/api/v1/maps/epci/123.png").status_code == 422
    assert client.get("/api/v1/maps/epci/200000000.png").status_code == 404
    assert client.get("/api/v1/maps/canton/1.png").status_code == 404
