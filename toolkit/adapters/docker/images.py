"""The Ollama image: present locally, or pulled from its registry with progress.

``gpuless up`` pulls the image only when it is missing (``--no-pull`` makes a missing image an error);
pull progress is reported through the same callback as the model pull.
"""

from __future__ import annotations

import docker
import docker.errors
import requests

from toolkit.adapters.docker.errors import explain, translate
from toolkit.adapters.progress import LayerTotals, Progress, ProgressCallback
from toolkit.errors import ImageError


class ImageStore:
    """The image half of ``DockerRunner``."""

    client: docker.DockerClient

    def has_image(self, image: str) -> bool:
        with translate(f"looking up image {image}"):
            try:
                self.client.images.get(image)
            except docker.errors.ImageNotFound:
                return False
        return True

    def ensure_image(
        self, image: str, *, pull: bool = True, progress: ProgressCallback | None = None
    ) -> bool:
        """Make sure ``image`` is present; returns True when it had to be pulled."""
        if self.has_image(image):
            return False
        if not pull:
            raise ImageError(
                f"image {image} is not present and --no-pull was given",
                f"Run without --no-pull, `docker pull {image}`, or pass a local image with --image.",
            )
        self._pull_image(image, progress)
        if not self.has_image(image):
            raise ImageError(f"pulling {image} finished but the image is not there")
        return True

    def _pull_image(self, image: str, progress: ProgressCallback | None) -> None:
        repository, tag = docker.utils.parse_repository_tag(image)
        totals = LayerTotals()
        hint = (
            "Check the network and the image name, `docker login` for private images, "
            "or pass an image that is already present with --image."
        )
        try:
            for event in self.client.api.pull(repository, tag=tag or "latest", stream=True, decode=True):
                # Errors arrive inside the stream with HTTP 200.
                error = event.get("errorDetail", {}).get("message") or event.get("error")
                if error:
                    raise ImageError(f"pulling {image} failed: {' '.join(str(error).split())[:300]}", hint)
                if progress is None:
                    continue
                layer = str(event.get("id", ""))
                detail = event.get("progressDetail") or {}
                status = str(event.get("status", ""))
                if status in ("Pull complete", "Already exists"):
                    totals.finish(layer)
                completed, total = totals.update(layer, detail.get("current"), detail.get("total"))
                progress(Progress("image", status, completed, total))
        except docker.errors.APIError as error:
            raise ImageError(f"pulling {image} failed: {explain(error)}", hint) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
            raise ImageError(f"pulling {image} failed: {type(error).__name__}", hint) from None
