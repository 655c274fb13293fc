"""The library's own error types: every mistake a user can make ends in one of these.

All are ValueError subclasses so callers that only know ValueError still catch them, and each
message is a sentence for a person that says what to do.
"""


class AlexVizError(ValueError):
    """Base of every error a user's input can cause."""


class SpecError(AlexVizError):
    """An architecture (or input size) that cannot be built; names the layer and a fix."""

    def __init__(self, message: str, layer: str | None = None) -> None:
        super().__init__(message)
        self.layer = layer


class ImageError(AlexVizError):
    """Bytes that are not an image we accept."""


class WeightsError(AlexVizError):
    """Weights that cannot be obtained, trusted or loaded into the chosen network."""


class DeviceError(AlexVizError):
    """A requested device (cuda, cuda:N, mps) that this machine does not have."""


class DownloadError(WeightsError):
    """A download that failed; `reason` says why in a few words for someone who does not run the server."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
