"""Corrects PeerTube's own OpenAPI description before Vireo is tested against it.

The conformance harness (tests/conformance/run.sh) checks Vireo's /api/v1 with schemathesis against
PeerTube's openapi.yaml (shared fixtures, taken unchanged from PeerTube 7.0.0). That spec has errors of
its own: where it and PeerTube's server disagree, the server is what clients were written against, so
the test corrects the spec in a copy. This script loads the spec unchanged and applies one named
function per error, in the order of `CORRECTIONS`: first the errors listed in the fixture's SOURCE.md,
then those found since by the conformance runs (each of these says in its docstring that it is not in
SOURCE.md, and which PeerTube validator or model shows the server's behaviour). Each function's
docstring names the error and the server behaviour it restores. Each correction must change the spec
(the runner compares before and after, and the functions check that what they correct is still in its
erroneous form), so a correction that no longer applies fails loudly. After the corrections,
`VIREO_RULES` narrow the copy to what Vireo deliberately takes where it differs from PeerTube's server
(each named with its reason, and listed in the README); nothing else is changed.

With --anonymous the copy is the one for requests without a token: `ANONYMOUS_CORRECTIONS` are applied
after the others (parameters PeerTube refuses from anonymous clients, which the spec offers to all).

Usage: python fix_spec.py [--anonymous] <in openapi.yaml> <out corrected.yaml>   (needs PyYAML)

PeerTube sources read for the server behaviour (github.com/Chocobozzz/PeerTube, the stored versions
that were available, newer than 7.0.0): server/core/initializers/constants.ts (SORTABLE_COLUMNS, commit
01602019b0601c6f09d1076d21820fd67f5e3e2f), server/core/middlewares/validators/sort.ts,
server/core/controllers/api/{accounts,video-channel,users/me}.ts,
server/core/controllers/api/search/search-video-channels.ts, server/core/controllers/feeds/video-feeds.ts,
server/core/middlewares/validators/{search,users/users,videos/videos,videos/video-channels}.ts and
server/core/helpers/custom-validators/activitypub/actor.ts (actorNameAlphabet); for the errors found
beyond SOURCE.md also constants.ts (CONSTRAINTS_FIELDS, VIDEO_CATEGORIES, VIDEO_LICENCES,
buildVideoMimetypeExt), server/core/middlewares/validators/{config,users/user-registrations}.ts,
server/core/middlewares/validators/videos/{video-transcoding,video-view}.ts,
server/core/helpers/custom-validators/{users,videos,video-channels,video-view}.ts,
server/core/lib/plugins/theme-utils.ts (isThemeRegistered), server/core/lib/server-config-manager.ts
(getBuiltInThemes), server/core/models/user/user.ts (BIGINT quotas) and
server/core/models/video/video-streaming-playlist.ts (getSha256SegmentsUrl).
"""

import copy
import json
import sys

import yaml

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class CorrectionNoLongerApplies(AssertionError):
    """The spec no longer has the error a correction was written for."""


def expect(condition, message):
    """Fails loudly when the spec is not in the (erroneous) state a correction expects."""
    if not condition:
        raise CorrectionNoLongerApplies(message)


def dict_nodes(node):
    """Every mapping of the spec's tree, parents before children (listed first, so a caller may
    change one as it goes)."""
    found = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            found.append(current)
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return found


def schemas(spec):
    return spec["components"]["schemas"]


def operation(spec, method, path):
    expect(path in spec["paths"] and method in spec["paths"][path], f"no operation {method.upper()} {path}")
    return spec["paths"][path][method]


def operations(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in HTTP_METHODS:
                yield method, path, op


def resolve(spec, node):
    """Follows a local $ref (one or several hops)."""
    while isinstance(node, dict) and "$ref" in node:
        target = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def json_200_schema(spec, method, path):
    return operation(spec, method, path)["responses"]["200"]["content"]["application/json"]


# --- JavaScript regular expression literals ---------------------------------------------------------


def js_regex_literals_to_ecma(spec):
    """SOURCE.md: "Regular expressions written as JavaScript literals that nothing matches: username,
    usernameChannel, OAuthClient.client_id/client_secret (the latter also allows one character only),
    magnetUri".

    The `/.../flags` delimiters are stripped into ECMA-262 patterns matching what PeerTube's server
    checks or sends: user names `^[a-z0-9._]+$` (isUserUsernameValid); channel names the actor name
    alphabet `^[a-zA-Z0-9\\-_.:]+$` (actorNameAlphabet, whose doubled backslash in the spec comes from
    the JavaScript string and only escapes the `-`); OAuth client id and secret are 32 characters of
    the class, hence `+` instead of one character; magnet URIs as PeerTube generates them
    (`magnet:?xs=…&xt=urn:btih:<hash>&dn=…`, so `xt` may follow other parameters) with the `/i` flag
    spelt as character classes, JSON Schema patterns having no flags."""
    s = schemas(spec)
    fixes = [
        (s["username"], "/^[a-z0-9._]+$/", "^[a-z0-9._]+$"),
        (s["usernameChannel"], "/^[a-zA-Z0-9\\\\-_.:]+$/", "^[a-zA-Z0-9\\-_.:]+$"),
        (s["OAuthClient"]["properties"]["client_id"], "/^[a-z0-9]$/", "^[a-z0-9]+$"),
        (s["OAuthClient"]["properties"]["client_secret"], "/^[a-zA-Z0-9]$/", "^[a-zA-Z0-9]+$"),
    ]
    for node, literal, pattern in fixes:
        expect(node.get("pattern") == literal, f"expected the JavaScript literal {literal!r}, found {node.get('pattern')!r}")
        node["pattern"] = pattern

    magnet_literal = "/magnet:\\?xt=urn:[a-z0-9]+:[a-z0-9]{32}/i"
    magnet_pattern = (
        "^[mM][aA][gG][nN][eE][tT]:\\?(?:[^&#]*&)*[xX][tT]=[uU][rR][nN]:[a-zA-Z0-9]+:[a-zA-Z0-9]{32}"
    )
    found = 0
    for node in dict_nodes(spec):
        props = node.get("properties")
        magnet = props.get("magnetUri") if isinstance(props, dict) else None
        if isinstance(magnet, dict) and magnet.get("pattern") == magnet_literal:
            magnet["pattern"] = magnet_pattern
            found += 1
    expect(found > 0, "no magnetUri with the JavaScript literal pattern left")


# --- hosts --------------------------------------------------------------------------------------------


def drop_hostname_format_on_hosts(spec):
    """SOURCE.md: "`format: hostname` on hosts, which carry a port on a non-default port".

    PeerTube sends and accepts hosts as `host[:port]` (e.g. `peertube.example:9000`), which RFC 1123
    `hostname` rejects; the format is removed wherever the spec puts it (only on hosts)."""
    removed = 0
    for node in dict_nodes(spec):
        if node.get("format") == "hostname":
            del node["format"]
            removed += 1
    expect(removed > 0, "no `format: hostname` left")


# --- response shapes ----------------------------------------------------------------------------------


def _page_of(item_ref):
    """PeerTube's list envelope (getFormattedObjects): `{"total": n, "data": [item]}`."""
    return {
        "type": "object",
        "properties": {
            "total": {"type": "integer", "example": 1},
            "data": {"type": "array", "items": {"$ref": item_ref}},
        },
    }


def users_list_is_a_page(spec):
    """SOURCE.md: "`GET /users` is `{total, data}` (declared as an array)".

    PeerTube answers the admin user list with getFormattedObjects: `{"total": n, "data": [User]}`."""
    content = json_200_schema(spec, "get", "/api/v1/users")
    expect(content["schema"].get("type") == "array", "GET /users is no longer declared as an array")
    content["schema"] = _page_of("#/components/schemas/User")


def account_ratings_is_a_page(spec):
    """Not in SOURCE.md: `GET /accounts/{name}/ratings` is `{total, data}` (declared as an array).

    PeerTube's listAccountRatings (controllers/api/accounts.ts) answers with getFormattedObjects:
    `{"total": n, "data": [VideoRating]}`, as every paged list."""
    content = json_200_schema(spec, "get", "/api/v1/accounts/{name}/ratings")
    expect(content["schema"].get("type") == "array", "GET /accounts/{name}/ratings is no longer declared as an array")
    content["schema"] = _page_of("#/components/schemas/VideoRating")


def users_me_is_one_user(spec):
    """SOURCE.md: "`GET /users/me` one user (declared as an array)".

    PeerTube answers `user.toMeFormattedJSON()`: one User object (with extra fields)."""
    content = json_200_schema(spec, "get", "/api/v1/users/me")
    expect(content["schema"].get("type") == "array", "GET /users/me is no longer declared as an array")
    content["schema"] = {"$ref": "#/components/schemas/User"}


def user_by_id_is_one_schema(spec):
    """SOURCE.md: "`GET /users/{id}` is a user with or without stats (`oneOf` over overlapping schemas)".

    A User without stats also validates against UserWithStats (whose stats fields are optional), so
    every answer matched both `oneOf` branches and failed. PeerTube sends a User, plus the stats fields
    with `withStats`: the single schema UserWithStats (User and optional stats) accepts both."""
    content = json_200_schema(spec, "get", "/api/v1/users/{id}")
    expect("oneOf" in content["schema"], "GET /users/{id} is no longer a oneOf")
    content["schema"] = {"$ref": "#/components/schemas/UserWithStats"}


def video_constants_are_id_label_maps(spec):
    """SOURCE.md: "`/videos/categories|licences|languages|privacies` are id → label objects (declared as
    arrays)".

    PeerTube answers these with its constant tables, e.g. `{"1": "Music", "2": "Films"}` and
    `{"en": "English"}`: objects whose values are labels."""
    for path in ("/api/v1/videos/categories", "/api/v1/videos/licences",
                 "/api/v1/videos/languages", "/api/v1/videos/privacies"):
        content = json_200_schema(spec, "get", path)
        expect(content["schema"].get("type") == "array", f"GET {path} is no longer declared as an array")
        content["schema"] = {"type": "object", "additionalProperties": {"type": "string"}}


def video_description_is_an_object(spec):
    """SOURCE.md: "`/videos/{id}/description` is `{"description": ...}` (declared as a bare string)".

    PeerTube answers `{"description": <string or null>}`; the string's own rules are kept."""
    content = json_200_schema(spec, "get", "/api/v1/videos/{id}/description")
    expect(content["schema"].get("type") == "string", "GET /videos/{id}/description is no longer a bare string")
    content["schema"] = {
        "type": "object",
        "properties": {"description": content["schema"]},
        "required": ["description"],
    }


def server_config_views_videos(spec):
    """SOURCE.md: "in the server config, `views.views` ... stand[s] where PeerTube sends `views.videos`".

    PeerTube's ServerConfig has `views.videos.watchingInterval.{anonymous,users}`."""
    views = schemas(spec)["ServerConfig"]["properties"]["views"]["properties"]
    expect("views" in views and "videos" not in views, "ServerConfig views.views is gone")
    views["videos"] = views.pop("views")


def server_config_avatar_file_extensions(spec):
    """SOURCE.md: "in the server config, ... `avatar.extensions` stand[s] where PeerTube sends
    `avatar.file.extensions`".

    PeerTube's ServerConfig has `avatar.file.size.max` and `avatar.file.extensions`."""
    avatar = schemas(spec)["ServerConfig"]["properties"]["avatar"]["properties"]
    expect("extensions" in avatar, "ServerConfig avatar.extensions is gone")
    avatar["file"].setdefault("properties", {})
    expect("extensions" not in avatar["file"]["properties"], "ServerConfig avatar.file.extensions exists already")
    avatar["file"]["properties"]["extensions"] = avatar.pop("extensions")


# --- nullable fields ----------------------------------------------------------------------------------


def video_constant_ids_nullable(spec):
    """SOURCE.md: "Fields PeerTube sends as `null` that the spec does not mark `nullable`: unset category,
    licence and language ids (`{"id": null, "label": "Unknown"}`)".

    The id `$ref` (shared with request bodies, where it stays as it is) is replaced in the response
    constants by a nullable copy of the referenced schema."""
    for name in ("VideoConstantNumber-Category", "VideoConstantNumber-Licence", "VideoConstantString-Language"):
        prop = schemas(spec)[name]["properties"]
        expect("$ref" in prop["id"], f"{name}.id is no longer a bare $ref")
        inline = copy.deepcopy(resolve(spec, prop["id"]))
        expect(not inline.get("nullable"), f"{name}.id is nullable already")
        inline["nullable"] = True
        prop["id"] = inline


def _make_user_field_nullable(spec, field):
    prop = schemas(spec)["User"]["properties"][field]
    expect(not prop.get("nullable"), f"User.{field} is nullable already")
    prop["nullable"] = True


def user_blocked_reason_nullable(spec):
    """SOURCE.md: "Fields PeerTube sends as `null` ...: `User.blockedReason`".

    PeerTube sends `"blockedReason": null` for a user that is not blocked (or blocked without reason)."""
    _make_user_field_nullable(spec, "blockedReason")


def user_plugin_auth_nullable(spec):
    """SOURCE.md: "Fields PeerTube sends as `null` ...: `pluginAuth`".

    PeerTube sends `"pluginAuth": null` for users that log in with a password (User; UpdateUser already
    allows null)."""
    _make_user_field_nullable(spec, "pluginAuth")


def user_last_login_date_nullable(spec):
    """SOURCE.md: "Fields PeerTube sends as `null` ...: `lastLoginDate`".

    PeerTube sends `"lastLoginDate": null` for a user that never logged in."""
    _make_user_field_nullable(spec, "lastLoginDate")


# --- input rules applied to responses -----------------------------------------------------------------


def response_tags_min_items(spec):
    """SOURCE.md: "Input rules applied to responses: `tags.minItems: 1`".

    PeerTube accepts videos without tags (TAGS min 0) and sends `"tags": []` for them; the rule is
    removed from the response schema VideoDetails (request bodies keep theirs)."""
    tags = schemas(spec)["VideoDetails"]["allOf"][1]["properties"]["tags"]
    expect(tags.get("minItems") == 1, "VideoDetails.tags.minItems is no longer 1")
    del tags["minItems"]


def response_display_name_min_length(spec):
    """SOURCE.md: "Input rules applied to responses: ... `displayName.minLength: 3`".

    PeerTube's account display names are 1 to 120 characters (USERS.NAME) and a user's default display
    name is its user name, which may be one character; the rule is removed from the response schema
    Account (UpdateMe's request rule is not a response rule and stays)."""
    display_name = schemas(spec)["Account"]["allOf"][1]["properties"]["displayName"]
    expect(display_name.get("minLength") == 3, "Account.displayName.minLength is no longer 3")
    del display_name["minLength"]


# --- inputs -------------------------------------------------------------------------------------------


def count_minimum_zero(spec):
    """SOURCE.md: "`count` has `minimum: 1` but PeerTube accepts 0".

    PeerTube's paginationValidator checks `count` with isInt({ min: 0 }) (0 gives an empty page with
    the total)."""
    count = spec["components"]["parameters"]["count"]["schema"]
    expect(count.get("minimum") == 1, "count.minimum is no longer 1")
    count["minimum"] = 0


# SORTABLE_COLUMNS from PeerTube's server/core/initializers/constants.ts (see the module docstring).
SORTABLE_COLUMNS = {
    "ADMIN_USERS": ["id", "username", "videoQuotaUsed", "createdAt", "lastLoginDate", "role"],
    "USER_SUBSCRIPTIONS": ["id", "createdAt", "channelUpdatedAt"],
    "ACCOUNTS": ["createdAt"],
    "JOBS": ["createdAt"],
    "VIDEO_CHANNELS": ["id", "name", "updatedAt", "createdAt"],
    "VIDEO_IMPORTS": ["createdAt"],
    "VIDEO_CHANNEL_SYNCS": ["externalChannelUrl", "videoChannel", "createdAt", "lastSyncAt", "state"],
    "VIDEO_COMMENT_THREADS": ["createdAt", "totalReplies"],
    "VIDEO_PASSWORDS": ["createdAt"],
    "VIDEO_RATES": ["createdAt"],
    "BLACKLISTS": ["id", "name", "duration", "views", "likes", "dislikes", "uuid", "createdAt"],
    "INSTANCE_FOLLOWERS": ["createdAt", "state", "score"],
    "INSTANCE_FOLLOWING": ["createdAt", "redundancyAllowed", "state"],
    "ACCOUNT_FOLLOWERS": ["createdAt"],
    "CHANNEL_FOLLOWERS": ["createdAt"],
    "USER_REGISTRATIONS": ["createdAt", "state"],
    "RUNNERS": ["createdAt"],
    "RUNNER_REGISTRATION_TOKENS": ["createdAt"],
    "RUNNER_JOBS": ["updatedAt", "createdAt", "priority", "state", "progress"],
    "VIDEOS": ["name", "duration", "createdAt", "publishedAt", "originallyPublishedAt", "views", "likes",
               "comments", "trending", "hot", "best", "localVideoFilesSize", "match"],
    "VIDEOS_SEARCH": ["name", "duration", "createdAt", "publishedAt", "originallyPublishedAt", "views",
                      "likes", "match", "hot"],
    "VIDEO_CHANNELS_SEARCH": ["match", "displayName", "createdAt"],
    "VIDEO_PLAYLISTS_SEARCH": ["match", "displayName", "createdAt"],
    "ABUSES": ["id", "createdAt", "state"],
    "ACCOUNTS_BLOCKLIST": ["createdAt"],
    "SERVERS_BLOCKLIST": ["createdAt"],
    "USER_NOTIFICATIONS": ["createdAt", "read"],
    "VIDEO_PLAYLISTS": ["name", "displayName", "createdAt", "updatedAt", "videoChannelPosition"],
    "PLUGINS": ["name", "createdAt", "updatedAt"],
    "AVAILABLE_PLUGINS": ["npmName", "popularity", "trending"],
    "VIDEO_REDUNDANCIES": ["name"],
}

# Which sort validator (checkSortFactory(SORTABLE_COLUMNS.X)) each PeerTube route uses.
SORT_COLUMNS_OF_OPERATION = {
    ("get", "/feeds/videos.{format}"): "VIDEOS",
    ("get", "/feeds/subscriptions.{format}"): "VIDEOS",
    ("get", "/api/v1/accounts"): "ACCOUNTS",
    ("get", "/api/v1/accounts/{name}/videos"): "VIDEOS",
    ("get", "/api/v1/accounts/{name}/followers"): "ACCOUNT_FOLLOWERS",
    ("get", "/api/v1/accounts/{name}/video-playlists"): "VIDEO_PLAYLISTS",
    ("get", "/api/v1/accounts/{name}/video-channels"): "VIDEO_CHANNELS",
    ("get", "/api/v1/accounts/{name}/video-channel-syncs"): "VIDEO_CHANNEL_SYNCS",
    ("get", "/api/v1/accounts/{name}/ratings"): "VIDEO_RATES",
    ("get", "/api/v1/jobs/{state}"): "JOBS",
    ("get", "/api/v1/server/followers"): "INSTANCE_FOLLOWERS",
    ("get", "/api/v1/server/following"): "INSTANCE_FOLLOWING",
    ("get", "/api/v1/server/blocklist/accounts"): "ACCOUNTS_BLOCKLIST",
    ("get", "/api/v1/server/blocklist/servers"): "SERVERS_BLOCKLIST",
    ("get", "/api/v1/server/redundancy/videos"): "VIDEO_REDUNDANCIES",
    ("get", "/api/v1/users"): "ADMIN_USERS",
    ("get", "/api/v1/users/me/videos/imports"): "VIDEO_IMPORTS",
    ("get", "/api/v1/users/me/videos"): "VIDEOS",
    ("get", "/api/v1/users/me/subscriptions"): "USER_SUBSCRIPTIONS",
    ("get", "/api/v1/users/me/subscriptions/videos"): "VIDEOS",
    ("get", "/api/v1/users/me/notifications"): "USER_NOTIFICATIONS",
    ("get", "/api/v1/users/me/abuses"): "ABUSES",
    ("get", "/api/v1/users/registrations"): "USER_REGISTRATIONS",
    ("get", "/api/v1/abuses"): "ABUSES",
    ("get", "/api/v1/videos"): "VIDEOS",
    ("get", "/api/v1/videos/blacklist"): "BLACKLISTS",
    ("get", "/api/v1/videos/{id}/passwords"): "VIDEO_PASSWORDS",
    ("get", "/api/v1/videos/{id}/comment-threads"): "VIDEO_COMMENT_THREADS",
    ("get", "/api/v1/video-channels"): "VIDEO_CHANNELS",
    ("get", "/api/v1/video-channels/{channelHandle}/videos"): "VIDEOS",
    ("get", "/api/v1/video-channels/{channelHandle}/video-playlists"): "VIDEO_PLAYLISTS",
    ("get", "/api/v1/video-channels/{channelHandle}/followers"): "CHANNEL_FOLLOWERS",
    ("get", "/api/v1/video-playlists"): "VIDEO_PLAYLISTS",
    ("get", "/api/v1/search/videos"): "VIDEOS_SEARCH",
    ("get", "/api/v1/search/video-channels"): "VIDEO_CHANNELS_SEARCH",
    ("get", "/api/v1/search/video-playlists"): "VIDEO_PLAYLISTS_SEARCH",
    ("get", "/api/v1/plugins"): "PLUGINS",
    ("get", "/api/v1/plugins/available"): "AVAILABLE_PLUGINS",
    ("get", "/api/v1/runners"): "RUNNERS",
    ("get", "/api/v1/runners/registration-tokens"): "RUNNER_REGISTRATION_TOKENS",
    ("get", "/api/v1/runners/jobs"): "RUNNER_JOBS",
}


def sort_enums_per_endpoint(spec):
    """SOURCE.md: "`sort` parameters are free strings although the server checks them per endpoint".

    PeerTube's checkSortFactory(SORTABLE_COLUMNS.X) accepts exactly the columns of X, each ascending or
    with a leading `-` (descending), and answers 400 to anything else. Every operation's `sort`
    parameter (free, or with a partial enum from a shared component) becomes an inline parameter with
    that endpoint's full enum; an operation whose validator is not known fails the script."""
    changed = 0
    for method, path, op in operations(spec):
        params = op.get("parameters", [])
        for index, param in enumerate(params):
            resolved = resolve(spec, param)
            if resolved.get("in") != "query" or resolved.get("name") != "sort":
                continue
            key = SORT_COLUMNS_OF_OPERATION.get((method, path))
            expect(key is not None, f"{method.upper()} {path} has a sort parameter but no known sort validator")
            columns = SORTABLE_COLUMNS[key]
            inline = copy.deepcopy(resolved)
            schema = {k: v for k, v in inline.get("schema", {}).items() if k not in ("enum", "example")}
            schema["type"] = "string"
            schema["enum"] = columns + ["-" + column for column in columns]
            inline["schema"] = schema
            params[index] = inline
            changed += 1
    expect(changed > 0, "no sort parameter found")


# Fields PeerTube's body validators require (no `.optional()`), by operationId.
REQUIRED_BODY_FIELDS = {
    "addUser": ["username", "password", "email", "role"],  # usersAddValidator
    "registerUser": ["username", "password", "email"],  # direct registration validators
    "addVideoChannel": ["name", "displayName"],  # videoChannelsAddValidator
    "uploadLegacy": ["channelId", "name", "videofile"],  # videosAddLegacyValidator
    "uploadResumableInit": ["channelId", "name", "filename"],  # videosAddResumableInitValidator
}

FORM_MEDIA_TYPES = ("application/json", "multipart/form-data", "application/x-www-form-urlencoded")


def _required_fields(spec, schema):
    """The `required` names of a schema, through $ref and allOf."""
    schema = resolve(spec, schema)
    names = set(schema.get("required", []))
    for part in schema.get("allOf", []):
        names |= _required_fields(spec, part)
    return names


def request_bodies_are_objects_with_required(spec):
    """SOURCE.md: "request bodies lack `type: object` (so `null` passes) and `required`".

    PeerTube's body parsers and validators only take an object (a JSON `null`, array or number is
    answered 400). Every JSON, multipart or form request body schema (or the component it refers to)
    without a type gets `type: object`; the bodies of REQUIRED_BODY_FIELDS get the fields PeerTube's
    validators require, where the spec (through `allOf`) does not already require them; and a body
    whose schema requires fields is itself marked required (PeerTube answers 400 to a request without
    it, as every required field is then missing)."""
    typed = 0
    for method, path, op in operations(spec):
        body = resolve(spec, op.get("requestBody", {}))
        for media_type, content in body.get("content", {}).items():
            if media_type not in FORM_MEDIA_TYPES or "schema" not in content:
                continue
            target = resolve(spec, content["schema"])
            if "type" not in target:
                target["type"] = "object"
                typed += 1
    expect(typed > 0, "every request body has a type already")

    for method, path, op in operations(spec):
        wanted = REQUIRED_BODY_FIELDS.get(op.get("operationId"))
        if wanted is None:
            continue
        body = resolve(spec, op["requestBody"])
        for media_type, content in body["content"].items():
            target = resolve(spec, content["schema"])
            missing = [name for name in wanted if name not in _required_fields(spec, target)]
            if missing:
                target.setdefault("required", []).extend(missing)
    for operation_id in REQUIRED_BODY_FIELDS:
        expect(any(op.get("operationId") == operation_id for _, _, op in operations(spec)),
               f"no operation {operation_id}")

    # A body with required fields cannot be left out: PeerTube then finds every such field missing.
    for method, path, op in operations(spec):
        if "requestBody" not in op or "$ref" in op["requestBody"] or op["requestBody"].get("required"):
            continue
        for media_type, content in op["requestBody"].get("content", {}).items():
            schema = resolve(spec, content.get("schema", {}))
            branches = schema.get("oneOf") or schema.get("anyOf")
            if _required_fields(spec, schema) or (branches and all(_required_fields(spec, b) for b in branches)):
                op["requestBody"]["required"] = True
                break


def put_video_wait_transcoding_boolean(spec):
    """SOURCE.md: "`waitTranscoding` on `PUT /videos/{id}` is typed as a string".

    PeerTube validates it with toBooleanOrNull + isBooleanValid, as on upload (where the spec types it
    boolean)."""
    props = operation(spec, "put", "/api/v1/videos/{id}")["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    expect(props["waitTranscoding"].get("type") == "string", "PUT /videos/{id} waitTranscoding is no longer a string")
    props["waitTranscoding"]["type"] = "boolean"


def put_custom_config_body(spec):
    """SOURCE.md: "`PUT /config/custom` has no body schema (its shape is the `ServerConfigCustom` of
    `GET /config/custom`)".

    PeerTube's customConfigUpdateValidator reads the same object GET /config/custom answers. (Runs
    before request_bodies_are_objects_with_required, which gives ServerConfigCustom `type: object`.)"""
    op = operation(spec, "put", "/api/v1/config/custom")
    expect("requestBody" not in op, "PUT /config/custom has a body already")
    op["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ServerConfigCustom"}}},
    }


def search_not_required(spec):
    """SOURCE.md: "`search` is marked required on `/search/*` although the server accepts it absent".

    PeerTube's search validators check `query('search').optional().not().isEmpty()`."""
    changed = 0
    for method, path, op in operations(spec):
        if not path.startswith("/api/v1/search/"):
            continue
        for param in op.get("parameters", []):
            if "$ref" not in param and param.get("name") == "search" and param.get("in") == "query" and param.get("required"):
                param["required"] = False
                changed += 1
    expect(changed > 0, "no required search parameter left on /search/*")


# --- error answers ------------------------------------------------------------------------------------

PROBLEM_SCHEMA_NAME = "VireoConformanceProblem"
PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 7807 problem document, as PeerTube's res.fail() sends it",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
    },
    "required": ["type", "detail", "status"],
}
ERROR_DESCRIPTIONS = {
    "400": "invalid parameters or body",
    "401": "missing, invalid or expired token",
    "403": "not allowed to do this",
    "404": "not found",
    "409": "conflicts with an existing resource",
    "413": "body too large, or quota reached",
    "415": "unsupported media type",
    "429": "too many requests",
}
# Operations where PeerTube answers 409 (uniqueness, last channel, resumable chunk mismatch, a video
# already being transcoded: createTranscodingValidator).
CONFLICTING_OPERATIONS = {
    "addUser", "registerUser", "putUser", "putUserInfo", "addVideoChannel", "delVideoChannel",
    "uploadResumable", "uploadResumableInit", "requestRegistration", "createVideoTranscoding",
}


def document_error_answers(spec):
    """SOURCE.md: "Error answers (400, 401, 403, 404, 409, 415, 429) are mostly undocumented, though
    every PeerTube endpoint can give them".

    PeerTube answers errors with res.fail(): an `application/problem+json` document
    `{type, title, detail, status, code?, ...}`. Every operation gets 400, 401, 403, 404, 415 and 429
    (the API rate limiter), 413 where it takes a body (body parser or quota), 409 where PeerTube
    checks a conflict; an error status already documented without a body gets the problem body. 405,
    which the server answers for a method a path does not have, belongs to no operation: schemathesis'
    unsupported_method check expects it for undeclared methods without it being documented."""
    expect(PROBLEM_SCHEMA_NAME not in schemas(spec), f"{PROBLEM_SCHEMA_NAME} exists already")
    schemas(spec)[PROBLEM_SCHEMA_NAME] = copy.deepcopy(PROBLEM_SCHEMA)
    problem_content = {"application/problem+json": {"schema": {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA_NAME}"}}}
    added = 0
    for method, path, op in operations(spec):
        codes = ["400", "401", "403", "404", "415", "429"]
        if "requestBody" in op:
            codes.append("413")
        if op.get("operationId") in CONFLICTING_OPERATIONS:
            codes.append("409")
        responses = op.setdefault("responses", {})
        for code in sorted(codes):
            existing = responses.get(code, responses.get(int(code)))
            if existing is None:
                responses[code] = {"description": ERROR_DESCRIPTIONS[code], "content": copy.deepcopy(problem_content)}
                added += 1
            elif "$ref" not in existing and "content" not in existing:
                existing["content"] = copy.deepcopy(problem_content)
                added += 1
    expect(added > 0, "every error answer is documented already")


# --- errors found beyond SOURCE.md ---------------------------------------------------------------------


def hls_segments_sha256_url_nullable(spec):
    """NOT in SOURCE.md (found by the conformance run): `segmentsSha256Url` of an HLS playlist is sent as
    `null`, which the spec does not allow.

    PeerTube's VideoStreamingPlaylistModel.getSha256SegmentsUrl returns null for a local playlist that
    has no segments-sha256 file (`if (!this.segmentsSha256Filename) return null`), and the video's JSON
    carries that value as it is."""
    prop = schemas(spec)["VideoStreamingPlaylists-HLS"]["properties"]["segmentsSha256Url"]
    expect(not prop.get("nullable"), "segmentsSha256Url is nullable already")
    prop["nullable"] = True


# PostgreSQL's BIGINT, the type of PeerTube's users.videoQuota and users.videoQuotaDaily columns.
BIGINT_MAX = 2**63 - 1


def user_video_quota_bounds(spec):
    """NOT in SOURCE.md: the spec lets `videoQuota` and `videoQuotaDaily` of POST /users,
    PUT /users/{id} and the `user` part of PUT /config/custom be any integer, though PeerTube refuses those under -1 (-1 is "unlimited") and
    cannot store those past a BIGINT.

    PeerTube's usersAddValidator and usersUpdateValidator check them with isUserVideoQuotaValid and
    isUserVideoQuotaDailyValid: isInt({ min: -1 }) (CONSTRAINTS_FIELDS.USERS.VIDEO_QUOTA{,_DAILY}), as
    customConfigUpdateValidator checks `user.videoQuota` and `user.videoQuotaDaily`;
    UserModel stores them in BIGINT columns (and a JavaScript number of 1e21 or more is written with an
    exponent, which isInt refuses), so the largest quota is 2^63 - 1."""
    quotas = [schemas(spec)[name]["properties"] for name in ("AddUser", "UpdateUser")]
    quotas.append(schemas(spec)["ServerConfigCustom"]["properties"]["user"]["properties"])
    for props in quotas:
        for field in ("videoQuota", "videoQuotaDaily"):
            expect("minimum" not in props[field], f"{field} has a minimum already")
            props[field]["minimum"] = -1
            props[field]["maximum"] = BIGINT_MAX


def registration_channel_rules(spec):
    """NOT in SOURCE.md: the `channel` of POST /users/register has an untyped, unbounded `displayName`
    and neither of its fields required.

    PeerTube's registration validators (usersCommonRegistrationValidatorFactory in
    validators/users/user-registrations.ts) check `channel.displayName` with
    isVideoChannelDisplayNameValid (a string of 1 to 120 characters, CONSTRAINTS_FIELDS.VIDEO_CHANNELS.NAME)
    and answer 400 "Channel is optional but if you specify it, channel.name and channel.displayName are
    required"; `channel.name` keeps its usernameChannel rule (1 to 50 characters)."""
    channel = schemas(spec)["RegisterUser"]["properties"]["channel"]
    display_name = channel["properties"]["displayName"]
    expect("maxLength" not in display_name and "required" not in channel,
           "RegisterUser.channel has its rules already")
    display_name.update({"type": "string", "minLength": 1, "maxLength": 120})
    channel["required"] = ["name", "displayName"]


def video_channel_edit_types(spec):
    """NOT in SOURCE.md: VideoChannelEdit (the body of POST /video-channels and
    PUT /video-channels/{channelHandle}) gives `displayName`, `description` and `support` no type, so
    a number or `null` display name is schema-valid.

    PeerTube's videoChannelsAddValidator and videoChannelsUpdateValidator check them with
    isVideoChannelDisplayNameValid (a string of 1 to 120 characters, never null),
    isVideoChannelDescriptionValid and isVideoChannelSupportValid (`null`, or a string of 3 to 1000
    characters: CONSTRAINTS_FIELDS.VIDEO_CHANNELS)."""
    props = schemas(spec)["VideoChannelEdit"]["properties"]
    expect(all("type" not in props[f] for f in ("displayName", "description", "support")),
           "VideoChannelEdit's fields have types already")
    props["displayName"].update({"type": "string", "minLength": 1, "maxLength": 120})
    for field in ("description", "support"):
        props[field].update({"type": "string", "nullable": True, "minLength": 3, "maxLength": 1000})


# VIDEO_CATEGORIES and VIDEO_LICENCES of PeerTube 7.0.0's constants.ts, the keys /videos/categories
# and /videos/licences answer with.
VIDEO_CATEGORY_IDS = list(range(1, 19))
VIDEO_LICENCE_IDS = list(range(1, 8))


def _request_body_schemas(spec):
    """Every schema object reachable from a request body (through $ref, allOf/oneOf/anyOf, properties
    and items), each once."""
    seen = set()
    stack = []
    for method, path, op in operations(spec):
        body = resolve(spec, op.get("requestBody", {}))
        for content in body.get("content", {}).values():
            if "schema" in content:
                stack.append(content["schema"])
    while stack:
        node = resolve(spec, stack.pop())
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        for key in ("allOf", "oneOf", "anyOf"):
            stack.extend(node.get(key, []))
        if isinstance(node.get("properties"), dict):
            stack.extend(node["properties"].values())
        if isinstance(node.get("items"), dict):
            stack.append(node["items"])


def video_category_and_licence_ids(spec):
    """NOT in SOURCE.md: the `category` and `licence` a video is uploaded or updated with are any
    integer in the spec.

    PeerTube's getCommonVideoEditAttributes (validators/videos/videos.ts, used by the upload, resumable
    upload and update validators) checks them with isVideoCategoryValid and isVideoLicenceValid:
    `VIDEO_CATEGORIES[value] !== undefined` (ids 1 to 18) and `VIDEO_LICENCES[value] !== undefined`
    (ids 1 to 7 in PeerTube 7.0.0), the keys GET /videos/categories and /videos/licences answer with.
    Request bodies get an enum of those ids in place of the shared VideoCategorySet/VideoLicenceSet,
    which stays free for the response constants and for the categoryOneOf/licenceOneOf filters (which
    PeerTube checks as integer arrays only)."""
    enums = {
        "#/components/schemas/VideoCategorySet": VIDEO_CATEGORY_IDS,
        "#/components/schemas/VideoLicenceSet": VIDEO_LICENCE_IDS,
    }
    replaced = 0
    for node in list(_request_body_schemas(spec)):
        props = node.get("properties")
        if not isinstance(props, dict):
            continue
        for field in ("category", "licence"):
            ref = props.get(field, {}).get("$ref") if isinstance(props.get(field), dict) else None
            if ref in enums:
                inline = copy.deepcopy(resolve(spec, props[field]))
                expect("enum" not in inline, f"{ref} has an enum already")
                inline["enum"] = list(enums[ref])
                props[field] = inline
                replaced += 1
    expect(replaced > 0, "no request body with a category or licence $ref left")


# The video types every PeerTube instance accepts (buildVideoMimetypeExt in constants.ts: the others
# need transcoding with `allow_additional_extensions`).
ALWAYS_ACCEPTED_VIDEO_TYPES = ["video/mp4", "video/webm", "video/ogg"]


def upload_content_type_is_a_video_type(spec):
    """NOT in SOURCE.md: `X-Upload-Content-Type` of the resumable video upload (and source
    replacement) initialisation is any string, though PeerTube answers 415 to a type that is not a
    video type it takes.

    PeerTube's videosAddResumableInitValidator passes the announced type to commonVideoChecks, whose
    isVideoFileMimeTypeValid matches it against MIMETYPES.VIDEO.MIMETYPES_REGEX (buildVideoMimetypeExt:
    video/webm, video/ogg and video/mp4 everywhere, more types only with transcoding's additional
    extensions) and answers 415 otherwise. The video operations get an inline copy of the shared header
    with the always accepted types as an enum; the user import (a ZIP archive) keeps the shared one."""
    component = "#/components/parameters/resumableUploadInitContentTypeHeader"
    changed = 0
    for method, path, op in operations(spec):
        if op.get("operationId") not in ("uploadResumableInit", "replaceVideoSourceResumableInit"):
            continue
        for index, param in enumerate(op.get("parameters", [])):
            if param.get("$ref") == component:
                inline = copy.deepcopy(resolve(spec, param))
                expect("enum" not in inline["schema"], "X-Upload-Content-Type has an enum already")
                inline["schema"].pop("format", None)
                inline["schema"]["enum"] = list(ALWAYS_ACCEPTED_VIDEO_TYPES)
                op["parameters"][index] = inline
                changed += 1
    expect(changed > 0, "no video upload operation refers to the shared X-Upload-Content-Type header")


def upload_content_length_is_a_byte_count(spec):
    """NOT in SOURCE.md: `X-Upload-Content-Length` of a resumable upload's initialisation is any
    number, though it is a count of bytes.

    PeerTube's resumableInitValidator checks it with `isNumeric` (digits only: no sign, fraction or
    exponent) and its uploadx handler takes it as the file's size; a negative, fractional or
    exponent-written length is answered 400. The shared header becomes a non-negative integer."""
    header = spec["components"]["parameters"]["resumableUploadInitContentLengthHeader"]["schema"]
    expect(header.get("type") == "number", "X-Upload-Content-Length is no longer a bare number")
    header["type"] = "integer"
    header["minimum"] = 0


def multipart_field_names_are_header_text(spec):
    """NOT in SOURCE.md: the multipart bodies (uploads, PUT /videos/{id}) allow additional fields of
    any name, though a multipart field's name travels in a part's Content-Disposition header (RFC
    7578), where control characters cannot stand: a generated name with them makes a body no server
    can read (busboy, behind PeerTube's multer, refuses it too). PeerTube ignores additional fields;
    their names get the printable-ASCII rule of header text."""
    changed = 0
    for method, path, op in operations(spec):
        body = resolve(spec, op.get("requestBody", {}))
        content = body.get("content", {}).get("multipart/form-data")
        if not content or "schema" not in content:
            continue
        schema = resolve(spec, content["schema"])
        if "propertyNames" not in schema:
            schema["propertyNames"] = {"pattern": "^[\\x20-\\x7e]+$"}
            changed += 1
    expect(changed > 0, "no multipart request body")


def update_me_display_nsfw_is_gone(spec):
    """NOT in SOURCE.md: PUT /users/me offers `displayNSFW`, a field PeerTube's validators read until
    it became `nsfwPolicy` (PeerTube 1.0, 2018): usersUpdateMeValidator of 7.0.0 checks nsfwPolicy
    and no longer reads displayNSFW, so the server ignores any value. The field is dropped from
    UpdateMe."""
    props = schemas(spec)["UpdateMe"]["properties"]
    expect("displayNSFW" in props, "UpdateMe.displayNSFW is gone already")
    del props["displayNSFW"]


def default_nsfw_policy_enum(spec):
    """NOT in SOURCE.md: `instance.defaultNSFWPolicy` of the server configuration (GET /config, and
    GET and PUT /config/custom) is a free string.

    PeerTube's customConfigUpdateValidator (validators/config.ts) checks it with isUserNSFWPolicyValid,
    one of NSFW_POLICY_TYPES (do_not_list, blur, display in 7.0.0): the spec's own NSFWPolicy schema."""
    for name in ("ServerConfig", "ServerConfigCustom"):
        instance = schemas(spec)[name]["properties"]["instance"]["properties"]
        expect(instance["defaultNSFWPolicy"] == {"type": "string"}, f"{name} defaultNSFWPolicy is no longer a bare string")
        instance["defaultNSFWPolicy"] = {"$ref": "#/components/schemas/NSFWPolicy"}


# Themes PeerTube accepts on an instance without theme plugins: DEFAULT_USER_THEME_NAME,
# DEFAULT_THEME_NAME and the built-in themes of ServerConfigManager.getBuiltInThemes.
PEERTUBE_THEMES = ["instance-default", "default", "peertube-core-dark-brown", "peertube-core-light-beige"]


def user_theme_enum(spec):
    """NOT in SOURCE.md: the `theme` of PUT /users/me is any string.

    PeerTube's usersUpdateMeValidator checks it with `isThemeNameValid(v) && isThemeRegistered(v)`
    (lib/plugins/theme-utils.ts): `instance-default`, `default`, a built-in theme
    (server-config-manager.ts getBuiltInThemes: peertube-core-dark-brown, peertube-core-light-beige) or
    a theme plugin's name; anything else is answered 400. The test instance has no theme plugin."""
    theme = schemas(spec)["UpdateMe"]["properties"]["theme"]
    expect("enum" not in theme, "UpdateMe.theme has an enum already")
    theme["enum"] = list(PEERTUBE_THEMES)


def put_me_body_optional(spec):
    """NOT in SOURCE.md: PUT /users/me declares its body required, so the run expects a request
    without one to be refused.

    Every field of PeerTube's usersUpdateMeValidator is `.optional()`: a request without a body changes
    nothing and is answered 204."""
    body = operation(spec, "put", "/api/v1/users/me")["requestBody"]
    expect(body.get("required") is True, "PUT /users/me's body is no longer required")
    body["required"] = False


def content_length_is_a_transport_header(spec):
    """NOT in SOURCE.md: the resumable upload's PUT (chunk) and DELETE (cancel) declare `Content-Length`
    as a header parameter (a number), so the run generates values such as `0.0` or `{}` for it.

    Content-Length describes the body and is set and checked by the HTTP layer (Node's HTTP parser
    for PeerTube), which refuses a malformed one before any application code runs; it is no parameter a
    client chooses. The header parameters named Content-Length are dropped from every operation; the
    HTTP client sends the real length of the body it sends."""
    removed = 0
    for method, path, op in operations(spec):
        params = op.get("parameters", [])
        kept = [p for p in params
                if not (resolve(spec, p).get("in") == "header" and resolve(spec, p).get("name", "").lower() == "content-length")]
        removed += len(params) - len(kept)
        if len(kept) != len(params):
            op["parameters"] = kept
    expect(removed > 0, "no Content-Length header parameter left")


# PeerTube's isUserUsernameValid (custom-validators/users.ts), also its isVideoChannelUsernameValid.
LOCAL_ACTOR_NAME_PATTERN = "^[a-z0-9_]+([a-z0-9_.-]+[a-z0-9_]+)?$"


def local_channel_names_follow_the_username_rule(spec):
    """NOT in SOURCE.md: `usernameChannel` lets a new channel be named with capitals or `:`.

    js_regex_literals_to_ecma gives usernameChannel the rule its JavaScript literal meant, the actor
    name alphabet (actorNameAlphabet), which fits names of remote channels; but the spec uses
    usernameChannel only where a local channel is created (AddUser.channelName,
    RegisterUser.channel.name, VideoChannelCreate.name), and there PeerTube's usersAddValidator,
    registration validators and videoChannelsAddValidator check isVideoChannelUsernameValid, which is
    isUserUsernameValid: `^[a-z0-9_]+([a-z0-9_.-]+[a-z0-9_]+)?$`, 1 to 50 characters."""
    channel_name = schemas(spec)["usernameChannel"]
    expect(channel_name.get("pattern") == "^[a-zA-Z0-9\\-_.:]+$",
           f"usernameChannel's pattern is no longer the actor name alphabet: {channel_name.get('pattern')!r}")
    channel_name["pattern"] = LOCAL_ACTOR_NAME_PATTERN


def update_me_display_name_length(spec):
    """NOT in SOURCE.md: PUT /users/me's `displayName` has `minLength: 3`.

    PeerTube's usersUpdateMeValidator checks it with isUserDisplayNameValid: 1 to 120 characters
    (CONSTRAINTS_FIELDS.USERS.NAME), so a display name of one or two characters is taken (the response
    side of the same error is corrected by response_display_name_min_length)."""
    display_name = schemas(spec)["UpdateMe"]["properties"]["displayName"]
    expect(display_name.get("minLength") == 3, "UpdateMe.displayName.minLength is no longer 3")
    display_name["minLength"] = 1


def update_me_current_password_is_any_string(spec):
    """NOT in SOURCE.md: PUT /users/me's `currentPassword` has the rules of a new password (6 to 255
    characters).

    PeerTube's usersUpdateMeValidator only checks that it exists (`body('currentPassword').optional()
    .custom(exists)`) and compares it with the user's password when `password` or `email` changes
    (401 when it does not match); alone it is ignored, whatever its length."""
    props = schemas(spec)["UpdateMe"]["properties"]
    expect(props["currentPassword"] == {"$ref": "#/components/schemas/password"},
           "UpdateMe.currentPassword is no longer the password schema")
    props["currentPassword"] = {"type": "string", "format": "password"}


def update_me_secrets_need_current_password(spec):
    """NOT in SOURCE.md: PUT /users/me lets `password` or `email` be changed without
    `currentPassword`.

    PeerTube's usersUpdateMeValidator answers 400 "currentPassword parameter is missing" when `password`
    or `email` is given without `currentPassword` (and 401 when it does not match). The body schema
    says so with JSON Schema's own means: either neither field is present, or currentPassword is."""
    update_me = schemas(spec)["UpdateMe"]
    expect("anyOf" not in update_me, "UpdateMe has an anyOf already")
    update_me["anyOf"] = [
        {"not": {"anyOf": [{"required": ["password"]}, {"required": ["email"]}]}},
        {"required": ["currentPassword"]},
    ]


def view_current_time_minimum(spec):
    """NOT in SOURCE.md: the `currentTime` of POST /videos/{id}/views may be negative in the spec.

    PeerTube's videoViewValidator checks it with isVideoTimeValid (custom-validators/video-view.ts),
    which refuses a value under 0 (and one past the video's duration, which a schema cannot say: see
    schemathesis.toml)."""
    current_time = schemas(spec)["UserViewingVideo"]["properties"]["currentTime"]
    expect("minimum" not in current_time, "UserViewingVideo.currentTime has a minimum already")
    current_time["minimum"] = 0


def video_description_and_support_lengths(spec):
    """NOT in SOURCE.md: a video's `description` and `support` are unbounded strings in the upload and
    update bodies.

    PeerTube's getCommonVideoEditAttributes (validators/videos/videos.ts) checks them with
    isVideoDescriptionValid (3 to 10000 characters, CONSTRAINTS_FIELDS.VIDEOS.DESCRIPTION) and
    isVideoSupportValid (3 to 1000, VIDEOS.SUPPORT). Applied to VideoUploadRequestCommon (legacy and
    resumable upload) and to the body of PUT /videos/{id}."""
    bodies = [
        schemas(spec)["VideoUploadRequestCommon"]["properties"],
        operation(spec, "put", "/api/v1/videos/{id}")["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"],
    ]
    for props in bodies:
        for field, (low, high) in (("description", (3, 10000)), ("support", (3, 1000))):
            expect("maxLength" not in props[field], f"video {field} has a length already")
            props[field].update({"minLength": low, "maxLength": high})


# --- anonymous copy -----------------------------------------------------------------------------------


def exclude_already_watched_needs_a_token(spec):
    """NOT in SOURCE.md: the video lists offer `excludeAlreadyWatched` to every client, though PeerTube
    refuses it without a token.

    PeerTube's commonVideosFiltersValidator (validators/videos/videos.ts) answers 400 "Cannot use
    excludeAlreadyWatched parameter when auth token is not provided" when it is present without a
    user. In the copy for the anonymous run the parameter is dropped from every operation (the
    authenticated run keeps it)."""
    component = "#/components/parameters/excludeAlreadyWatched"
    removed = 0
    for method, path, op in operations(spec):
        params = op.get("parameters", [])
        kept = [p for p in params if p.get("$ref") != component]
        removed += len(params) - len(kept)
        if len(kept) != len(params):
            op["parameters"] = kept
    expect(removed > 0, "no operation offers excludeAlreadyWatched")


def custom_config_camel_case_names(spec):
    """NOT in SOURCE.md: `ServerConfigCustom` names two parts in snake case,
    `transcoding.web_videos` and `import.video_channel_synchronization`, where PeerTube's server reads
    and answers `transcoding.webVideos` and `import.videoChannelSynchronization`
    (customConfigUpdateValidator in validators/config.ts checks `transcoding.webVideos.enabled` and
    `import.videoChannelSynchronization.enabled`; its client's admin form sends the same names). The
    two parts get the names the server uses."""
    props = schemas(spec)["ServerConfigCustom"]["properties"]
    renames = [(props["transcoding"], "web_videos", "webVideos"),
               (props["import"], "video_channel_synchronization", "videoChannelSynchronization")]
    for parent, wrong, right in renames:
        names = parent["properties"]
        expect(wrong in names and right not in names, f"ServerConfigCustom no longer names {wrong}")
        parent["properties"] = {right if k == wrong else k: v for k, v in names.items()}


FILENAME_FORBIDDEN = "/\\\\\\u0000-\\u001f\\u007f-\\u009f"


def custom_config_concurrency_is_a_count(spec):
    """NOT in SOURCE.md: `transcoding.concurrency` of `ServerConfigCustom` is any number, though
    PeerTube's customConfigUpdateValidator checks it with isInt({ min: 1 }) (validators/config.ts)."""
    concurrency = schemas(spec)["ServerConfigCustom"]["properties"]["transcoding"]["properties"]["concurrency"]
    expect(concurrency.get("type") == "number", "transcoding.concurrency is no longer a bare number")
    concurrency.update({"type": "integer", "minimum": 1})


def vireo_upload_filename_is_a_name(spec):
    """Vireo's rule, asked for by its PeerTube-API issue (checks made at init, not when the bytes
    arrive): a resumable upload's `filename` is a file's name, 1 to 255 characters without folders
    (`/`, `\\`, `.`, `..`) or control characters, refused with 400 at init (PeerTube checks only that
    it exists, and its extension later)."""
    changed = 0
    for method, path, op in operations(spec):
        if op.get("operationId") != "uploadResumableInit":
            continue
        body = resolve(spec, op["requestBody"])
        for content in body["content"].values():
            for part in resolve(spec, content["schema"]).get("allOf", []):
                filename = resolve(spec, part).get("properties", {}).get("filename")
                if isinstance(filename, dict) and "pattern" not in filename:
                    filename.update({
                        "minLength": 1, "maxLength": 255,
                        # No `not` for "." and "..": schemathesis' coverage phase cannot judge
                        # a `not` beside the body's binary parts; the alternatives say it.
                        "pattern": "^(?:[^.{0}][^{0}]*|\\.[^.{0}][^{0}]*|\\.\\.[^{0}]+)$".format(FILENAME_FORBIDDEN),
                    })
                    changed += 1
    expect(changed > 0, "no filename in the resumable upload's initialisation")


# --- instance follows ---------------------------------------------------------------------------------

FOLLOWING_PATH = "/api/v1/server/following"
FOLLOWER_PATHS = (
    ("delete", "/api/v1/server/followers/{nameWithHost}"),
    ("post", "/api/v1/server/followers/{nameWithHost}/accept"),
    ("post", "/api/v1/server/followers/{nameWithHost}/reject"),
)
UNFOLLOW_PATH = "/api/v1/server/following/{hostOrHandle}"


def _path_parameter(spec, method, path, name):
    for parameter in operation(spec, method, path).get("parameters", []):
        parameter = resolve(spec, parameter)
        if parameter.get("name") == name and parameter.get("in") == "path":
            return parameter
    raise CorrectionNoLongerApplies(f"no path parameter {name} in {method.upper()} {path}")


def server_follow_targets_as_the_server_reads_them(spec):
    """NOT in SOURCE.md: `POST /server/following` documents `hosts` and `handles` as arrays that may
    both be left out, but PeerTube's followValidator (middlewares/validators/follows.ts) passes each
    through toArray (a string is a list of one), refuses the request unless one of them names
    something ("You must provide at least one handle or one host."), and takes as a handle any string
    with an `@` (isRemoteHandleValid, helpers/custom-validators/follows.ts). The followers' paths take
    a handle (getFollowerValidator: isValidActorHandle), `hostOrHandle` a host or a handle; the spec
    says `format: email` and nothing."""
    body = resolve(spec, operation(spec, "post", FOLLOWING_PATH)["requestBody"])
    schema = resolve(spec, body["content"]["application/json"]["schema"])
    props = schema["properties"]
    expect(props["hosts"].get("type") == "array", "hosts is no longer a bare array")
    body["required"] = True
    for field in ("hosts", "handles"):
        item = props[field]["items"]
        if field == "handles":
            item["pattern"] = "@"
        props[field] = {"anyOf": [copy.deepcopy(item), {"type": "array", "items": item, "uniqueItems": True}]}
    schema["anyOf"] = [
        {"required": [field], "properties": {field: {"anyOf": [{"type": "string"}, {"type": "array", "minItems": 1}]}}}
        for field in ("hosts", "handles")
    ]
    for method, path in FOLLOWER_PATHS:
        _path_parameter(spec, method, path, "nameWithHost")["schema"] = {"type": "string", "pattern": "@"}


def video_include_is_a_bitmask(spec):
    """NOT in SOURCE.md: the `include` parameter of the video lists lists the single flags (0, 1, 2,
    4, 8, 16, 32) as an enum, but it is a bit mask of them: PeerTube's isVideoIncludeValid
    (helpers/custom-validators/videos.ts) takes any integer, and its client sends sums such as 3.
    Vireo reads it as an unsigned 32-bit mask."""
    include = spec["components"]["parameters"]["include"]["schema"]
    expect("enum" in include, "include is no longer an enum")
    del include["enum"]
    include.update({"minimum": 0, "maximum": 4294967295})


def blocklist_answers_as_the_server_does(spec):
    """NOT in SOURCE.md: the spec says `POST /server/blocklist/accounts` answers 200 and `DELETE
    /server/blocklist/accounts/{accountName}` 201, but PeerTube's controllers
    (controllers/api/server/server-blocklist.ts, blockAccount and unblockAccount) answer 204 with
    no body, as they do for servers."""
    post = operation(spec, "post", "/api/v1/server/blocklist/accounts")["responses"]
    delete = operation(spec, "delete", "/api/v1/server/blocklist/accounts/{accountName}")["responses"]
    expect("200" in post and "201" in delete, "the account block answers changed")
    post["204"] = post.pop("200")
    delete["204"] = delete.pop("201")


# Vireo's hosts and handles (api::server_follows::host and ::handle).
HOST_PATTERN = (
    "(?:[A-Za-z0-9-]{1,63}\\.)*[A-Za-z0-9-]{1,63}"
    "(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?"
)
HANDLE_PATTERN = "@?[A-Za-z0-9_.-]{1,255}@" + HOST_PATTERN


def vireo_follow_targets_are_hosts_and_handles(spec):
    """Vireo's rule: a host is DNS labels with an optional port and a handle is `name@host`, checked
    when the request arrives (400), where PeerTube takes any string with an `@` as a handle and finds
    out in a background job that it names nobody; at most 100 of each, as PeerTube's validator says
    in its message."""
    body = resolve(spec, operation(spec, "post", FOLLOWING_PATH)["requestBody"])
    props = resolve(spec, body["content"]["application/json"]["schema"])["properties"]
    for field, pattern in (("hosts", HOST_PATTERN), ("handles", HANDLE_PATTERN)):
        one, many = props[field]["anyOf"]
        expect(many.get("type") == "array", f"{field} is no longer a string or a list")
        item = {"type": "string", "maxLength": 255, "pattern": f"^{pattern}$"}
        props[field]["anyOf"] = [item, {"type": "array", "items": item, "uniqueItems": True, "maxItems": 100}]
    for method, path in FOLLOWER_PATHS:
        _path_parameter(spec, method, path, "nameWithHost")["schema"]["pattern"] = f"^{HANDLE_PATTERN}$"
    _path_parameter(spec, "delete", UNFOLLOW_PATH, "hostOrHandle")["schema"] = {
        "type": "string", "pattern": f"^(?:{HOST_PATTERN}|{HANDLE_PATTERN})$"}


def vireo_blocked_servers_are_hosts(spec):
    """Vireo's rule: a server to block or unblock is a host as Vireo follows one (DNS labels with an
    optional port, `HOST_PATTERN`); PeerTube's isHostValid takes what validator.js calls a URL
    without a scheme."""
    body = resolve(spec, operation(spec, "post", "/api/v1/server/blocklist/servers")["requestBody"])
    host = resolve(spec, body["content"]["application/json"]["schema"])["properties"]["host"]
    expect("pattern" not in host, "the blocked host has a pattern already")
    host.update({"maxLength": 255, "pattern": f"^{HOST_PATTERN}$"})
    path_host = _path_parameter(spec, "delete", "/api/v1/server/blocklist/servers/{host}", "host")
    path_host["schema"] = {"type": "string", "maxLength": 255, "pattern": f"^{HOST_PATTERN}$"}


CORRECTIONS = [
    js_regex_literals_to_ecma,
    drop_hostname_format_on_hosts,
    users_list_is_a_page,
    account_ratings_is_a_page,
    users_me_is_one_user,
    user_by_id_is_one_schema,
    video_constants_are_id_label_maps,
    video_description_is_an_object,
    server_config_views_videos,
    server_config_avatar_file_extensions,
    video_constant_ids_nullable,
    user_blocked_reason_nullable,
    user_plugin_auth_nullable,
    user_last_login_date_nullable,
    response_tags_min_items,
    response_display_name_min_length,
    count_minimum_zero,
    sort_enums_per_endpoint,
    put_custom_config_body,
    request_bodies_are_objects_with_required,
    put_video_wait_transcoding_boolean,
    search_not_required,
    document_error_answers,
    # Found beyond SOURCE.md:
    hls_segments_sha256_url_nullable,
    user_video_quota_bounds,
    registration_channel_rules,
    video_channel_edit_types,
    video_category_and_licence_ids,
    upload_content_type_is_a_video_type,
    upload_content_length_is_a_byte_count,
    multipart_field_names_are_header_text,
    update_me_display_nsfw_is_gone,
    default_nsfw_policy_enum,
    user_theme_enum,
    put_me_body_optional,
    content_length_is_a_transport_header,
    local_channel_names_follow_the_username_rule,
    update_me_display_name_length,
    update_me_current_password_is_any_string,
    update_me_secrets_need_current_password,
    view_current_time_minimum,
    video_description_and_support_lengths,
    custom_config_camel_case_names,
    custom_config_concurrency_is_a_count,
    server_follow_targets_as_the_server_reads_them,
    blocklist_answers_as_the_server_does,
    video_include_is_a_bitmask,
]

# Applied after CORRECTIONS with --anonymous, for the run without a token.
ANONYMOUS_CORRECTIONS = [
    exclude_already_watched_needs_a_token,
]


# --- Vireo's own rules --------------------------------------------------------------------------------
# Not errors of the spec: where Vireo deliberately takes less than PeerTube's server, the copy says what
# Vireo takes, so the run checks Vireo's rules instead of failing on choices made on purpose. Each is
# named for what Vireo does, and why; the README's "API coverage" lists the same.

# Characters Vireo refuses in one-line names (service::validate::forbidden_in_name): controls, bidi
# embeddings, overrides and isolates, line and paragraph separators, invisible spaces.
NAME_FORBIDDEN = "\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069\\u2028\\u2029\\u200b\\u2060\\ufeff\\u180e"
# Characters Vireo refuses in texts (service::validate::text): controls but tab and line breaks.
TEXT_FORBIDDEN = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
NAME_FIELDS = ("name", "displayName")
TEXT_FIELDS = ("description", "support")


def vireo_names_and_texts_refuse_controls(spec):
    """Vireo's rule, asked for by its hostile-input issue: names (a video's title, display names,
    tags) refuse control, direction-override and invisible characters and must show something;
    descriptions and support texts refuse control characters but tab and line breaks. PeerTube
    takes them (only lengths are checked). Every such string of a request body gets the pattern
    Vireo applies."""
    name_pattern = "^[^" + NAME_FORBIDDEN + "]*[^\\s" + NAME_FORBIDDEN + "][^" + NAME_FORBIDDEN + "]*$"
    text_pattern = "^[^" + TEXT_FORBIDDEN + "]*$"
    changed = 0
    for node in list(_request_body_schemas(spec)):
        props = node.get("properties")
        if not isinstance(props, dict):
            continue
        for field, value in list(props.items()):
            pattern = name_pattern if field in NAME_FIELDS else text_pattern if field in TEXT_FIELDS else None
            if field == "tags" and isinstance(value, dict):
                items = resolve(spec, value.get("items", {}))
                if isinstance(items, dict) and items.get("type") == "string" and "pattern" not in items:
                    value["items"] = dict(copy.deepcopy(items), pattern=name_pattern)
                    changed += 1
                continue
            if pattern is None or not isinstance(value, dict):
                continue
            inline = copy.deepcopy(resolve(spec, value))
            if inline.get("type") == "string" and "pattern" not in inline:
                inline["pattern"] = pattern
                props[field] = inline
                changed += 1
    expect(changed > 0, "no name or text field in any request body")


def _vireo_language_codes():
    """The codes of Vireo's /videos/languages, read from its source (src/model/languages.rs)."""
    import os
    import re
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "src", "model", "languages.rs"), encoding="utf-8") as f:
        codes = re.findall(r'^\s*\("([a-z]{2,3}(?:-[A-Za-z]+)?)",', f.read(), re.M)
    expect(len(codes) > 100, "Vireo's language list not found")
    return codes


def vireo_language_from_its_list(spec):
    """Vireo's rule, asked for by its PeerTube-API issue: a video's language, and each of the
    languages a user wants to see, must be one of /videos/languages (PeerTube takes any 1 to 10
    characters). Request bodies get the codes as an enum; the list filters (`languageOneOf`) stay
    free, as an unknown code there simply matches nothing."""
    codes = _vireo_language_codes()
    changed = 0
    for node in list(_request_body_schemas(spec)):
        props = node.get("properties")
        if not isinstance(props, dict):
            continue
        language = props.get("language")
        if isinstance(language, dict) and language.get("$ref") == "#/components/schemas/VideoLanguageSet":
            props["language"] = dict(copy.deepcopy(resolve(spec, language)), enum=list(codes))
            changed += 1
    wanted = schemas(spec)["UpdateMe"]["properties"]["videoLanguages"]
    expect(wanted.get("items") == {"type": "string"}, "UpdateMe.videoLanguages items changed")
    wanted["items"] = {"type": "string", "enum": list(codes)}
    expect(changed > 0, "no request body with a language")


def vireo_has_no_password_protected_videos(spec):
    """Vireo has not built password-protected videos yet (privacy 5, with `videoPasswords`): it
    refuses them with 400, as its README says. Request bodies get the privacies Vireo takes."""
    changed = 0
    for node in list(_request_body_schemas(spec)):
        props = node.get("properties")
        if isinstance(props, dict) and isinstance(props.get("privacy"), dict):
            if props["privacy"].get("$ref") == "#/components/schemas/VideoPrivacySet":
                props["privacy"] = {"type": "integer", "enum": [1, 2, 3, 4],
                                    "description": "privacy id; 5 (password protected) is not built in Vireo yet"}
                changed += 1
    expect(changed > 0, "no request body with a privacy")


def vireo_has_one_theme(spec):
    """Vireo has one look and ships no theme: a user may pick only the names PeerTube always takes
    (`instance-default`, `default`); its /config lists no built-in or registered theme."""
    theme = schemas(spec)["UpdateMe"]["properties"]["theme"]
    expect("enum" in theme, "UpdateMe.theme has no enum to narrow")
    theme["enum"] = ["instance-default", "default"]


def vireo_instance_needs_a_name(spec):
    """Vireo's rule: the instance's name is shown on every page, so it is 1 to 120 characters
    (PeerTube takes an empty one)."""
    name = schemas(spec)["ServerConfigCustom"]["properties"]["instance"]["properties"]["name"]
    expect("minLength" not in name, "instance.name has a length already")
    name.update({"minLength": 1, "maxLength": 120})


def vireo_custom_config_refuses_what_it_lacks(spec):
    """Vireo's rule: `PUT /config/custom` refuses to switch on what Vireo has not built rather than
    ignore a hoster's wish for it: an audio-only rendition (`transcoding.resolutions.0p`) and e-mail
    verification at sign-up (`signup.requiresEmailVerification`) may only be false. And a sign-up
    limit is -1 (none) or more (PeerTube takes any integer)."""
    props = schemas(spec)["ServerConfigCustom"]["properties"]
    limit = props["signup"]["properties"]["limit"]
    expect("minimum" not in limit, "signup.limit has a minimum already")
    limit["minimum"] = -1
    audio_only = props["transcoding"]["properties"]["resolutions"]["properties"]["0p"]
    verification = props["signup"]["properties"]["requiresEmailVerification"]
    for flag in (audio_only, verification):
        expect(flag.get("type") == "boolean" and "enum" not in flag, "a flag Vireo refuses changed shape")
        flag["enum"] = [False]


def vireo_refuses_empty_uploads_at_init(spec):
    """Vireo's rule, asked for by its PeerTube-API issue (checks made at init, not when the bytes
    arrive): a resumable upload announced as 0 bytes can never be a video, so its initialisation is
    refused with 400 (PeerTube accepts it and fails the empty file later)."""
    header = spec["components"]["parameters"]["resumableUploadInitContentLengthHeader"]["schema"]
    expect(header.get("minimum") == 0, "X-Upload-Content-Length has no minimum of 0 to raise")
    header["minimum"] = 1


VIREO_RULES = [
    vireo_names_and_texts_refuse_controls,
    vireo_language_from_its_list,
    vireo_has_no_password_protected_videos,
    vireo_has_one_theme,
    vireo_instance_needs_a_name,
    vireo_custom_config_refuses_what_it_lacks,
    vireo_refuses_empty_uploads_at_init,
    vireo_upload_filename_is_a_name,
    vireo_follow_targets_are_hosts_and_handles,
    vireo_blocked_servers_are_hosts,
]


def fingerprint(spec):
    return json.dumps(spec, sort_keys=True, default=str)


def main(argv):
    args = argv[1:]
    anonymous = "--anonymous" in args
    args = [a for a in args if a != "--anonymous"]
    if len(args) != 2:
        sys.stderr.write("usage: fix_spec.py [--anonymous] <in openapi.yaml> <out corrected.yaml>\n")
        return 2
    with open(args[0], encoding="utf-8") as source:
        spec = yaml.safe_load(source)
    corrections = CORRECTIONS + VIREO_RULES + (ANONYMOUS_CORRECTIONS if anonymous else [])
    for correction in corrections:
        before = fingerprint(spec)
        try:
            correction(spec)
        except (KeyError, IndexError, TypeError) as error:
            raise CorrectionNoLongerApplies(f"{correction.__name__}: the spec changed shape ({error!r})") from error
        if fingerprint(spec) == before:
            raise CorrectionNoLongerApplies(f"{correction.__name__} changed nothing")
    with open(args[1], "w", encoding="utf-8") as out:
        out.write("# PeerTube's openapi.yaml corrected by tests/conformance/fix_spec.py"
                  + (" --anonymous" if anonymous else "") + ": "
                  + ", ".join(c.__name__ for c in corrections) + "\n")
        yaml.safe_dump(spec, out, sort_keys=False, allow_unicode=True, width=120)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
