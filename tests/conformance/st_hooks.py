"""Schemathesis hooks for Vireo's conformance harness (loaded by run.sh through SCHEMATHESIS_HOOKS).

PeerTube's spec gives the `videofile` part of POST /videos/upload the video media types as its
multipart encoding. Schemathesis has no serializer for them, so a generated value for that part that
is not already bytes (a number or an object, in negative data) stopped the run with "Serialization not
possible" instead of being sent. A video part is a file like any other: its value goes out as bytes,
as schemathesis sends `application/octet-stream` parts. The second hook (below) keeps multipart field
names that cannot travel in a header out of the requests, sends real images in the image parts, and
keeps a new user's channel name apart from its username.
"""

import base64

import schemathesis

# The types the spec lists in the encoding of `videofile` (uploadLegacy).
VIDEO_PART_MEDIA_TYPES = [
    "video/mp4", "video/webm", "video/ogg", "video/avi", "video/quicktime", "video/x-msvideo",
    "video/x-flv", "video/x-matroska",
]

schemathesis.serializer.alias(VIDEO_PART_MEDIA_TYPES, "application/octet-stream")


# Control characters other than tab cannot stand in a multipart part's Content-Disposition header
# (RFC 7578; RFC 9110 field values), so a part named with one makes a body no server can read
# (busboy, behind PeerTube's multer, refuses it; Vireo answers 400 "failed to read headers").
# fix_spec.py's multipart_field_names_are_header_text gives the additional field names of the
# multipart bodies a `propertyNames` rule, which the fuzzing phase follows but the coverage phase's
# generated additional fields do not; this drops such fields from a case just before it is sent.
def _header_text(name):
    return not any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7F for c in name)


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    _distinct_channel_name(case)
    if case.media_type == "multipart/form-data" and isinstance(case.body, dict):
        for name in [n for n in case.body if not _header_text(n)]:
            del case.body[name]
        _real_images(case.body)


# The image parts (`thumbnailfile`, `previewfile`) are `format: binary` in the spec, which cannot say
# "an image": schemathesis generates any bytes, and a server that reads the image answers 400 (Vireo)
# or fails (PeerTube's image processing). Bytes that are no image get a real one instead (a 16 × 16
# JPEG made with ffmpeg), so the update and upload paths run to their end; a part of another type (a
# number or an object: a schema violation in negative data) is sent as generated.
TINY_JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU5LjM3LjEwMAD/2wBDAAgUFBcUFxsbGxsbGyAeICEhISAgICAhISEkJCQqKiok"
    "JCQhISQkKCgqKi4vLisrKisvLzIyMjw8OTlGRkhWVmf/xABLAAEBAAAAAAAAAAAAAAAAAAAABQEBAAAAAAAAAAAAAAAAAAAABhAB"
    "AAAAAAAAAAAAAAAAAAAAABEBAAAAAAAAAAAAAAAAAAAAAP/AABEIABAAEAMBIgACEQADEQD/2gAMAwEAAhEDEQA/AIIB2Ov/2Q=="
)
IMAGE_PARTS = ("thumbnailfile", "previewfile")
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")


def _is_image(data):
    return data.startswith(IMAGE_SIGNATURES) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _real_images(body):
    for name in IMAGE_PARTS:
        value = body.get(name)
        # The coverage phase gives some binary parts as text (an empty string, say): also no image.
        if isinstance(value, str) or isinstance(value, (bytes, bytearray)) and not _is_image(bytes(value)):
            body[name] = TINY_JPEG


# PeerTube's usersAddValidator refuses a `channelName` equal to the `username` (400 "Channel name
# cannot be the same as user username."), a rule between two fields that a JSON schema cannot state:
# a generated body that breaks only this rule is schema-valid, and the answer would count as a valid
# request refused. Such a body gets a channel name that differs in its first character (same length,
# same alphabet), so the case tests what it was generated for.
def _distinct_channel_name(case):
    body = case.body
    if case.method.upper() != "POST" or case.path != "/api/v1/users" or not isinstance(body, dict):
        return
    name, channel = body.get("username"), body.get("channelName")
    if isinstance(name, str) and isinstance(channel, str) and channel and channel == name:
        body["channelName"] = ("d" if channel.startswith("c") else "c") + channel[1:]

