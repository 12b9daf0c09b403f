"""Schemathesis hooks for Vireo's conformance harness (loaded by run.sh through SCHEMATHESIS_HOOKS).

PeerTube's spec gives the `videofile` part of POST /videos/upload the video media types as its
multipart encoding. Schemathesis has no serializer for them, so a generated value for that part that
is not already bytes (a number or an object, in negative data) stopped the run with "Serialization not
possible" instead of being sent. A video part is a file like any other: its value goes out as bytes,
as schemathesis sends `application/octet-stream` parts.
"""

import schemathesis

# The types the spec lists in the encoding of `videofile` (uploadLegacy).
VIDEO_PART_MEDIA_TYPES = [
    "video/mp4", "video/webm", "video/ogg", "video/avi", "video/quicktime", "video/x-msvideo",
    "video/x-flv", "video/x-matroska",
]

schemathesis.serializer.alias(VIDEO_PART_MEDIA_TYPES, "application/octet-stream")
