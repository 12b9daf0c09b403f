"""Log in to a PeerTube-compatible server with the `peertube` PyPI client, list users,
channels and videos, and rename the instance through its custom configuration.
Usage: pyclient.py BASE_URL USERNAME PASSWORD NEW_INSTANCE_NAME"""
import sys

from peertube import AuthenticatedClient, Client
from peertube.api.session import get_o_auth_client
from peertube.api.config import get_custom_config
from peertube.api.users import get_users
from peertube.api.video import get_videos
from peertube.api.video_channels import get_video_channels
from peertube.models.get_o_auth_token_response_200 import GetOAuthTokenResponse200

base, user, password, new_name = sys.argv[1:5]
httpx_args = {"trust_env": False}
anonymous = Client(base_url=base, raise_on_unexpected_status=True, httpx_args=httpx_args)
oauth = get_o_auth_client.sync(client=anonymous)
# The package has no generated call for the token endpoint; post the OAuth form with its client.
r = anonymous.get_httpx_client().post(
    "/api/v1/users/token",
    data={
        "client_id": oauth.client_id,
        "client_secret": oauth.client_secret,
        "grant_type": "password",
        "response_type": "code",
        "username": user,
        "password": password,
    },
)
r.raise_for_status()
token = GetOAuthTokenResponse200.from_dict(r.json())
client = AuthenticatedClient(
    base_url=base, token=token.access_token, raise_on_unexpected_status=True, httpx_args=httpx_args
)
users = get_users.sync(client=client)
channels = get_video_channels.sync(client=client)
videos = get_videos.sync(client=client)
print("users", users["total"], len(users["data"]))
print("channels", channels["total"], len(channels["data"]))
print("videos", videos.total, len(videos.data))

# The generated call for PUT /config/custom sends no body; send the client's own model back
# through its HTTP client, as PeerTube's admin pages do with the document they read.
custom = get_custom_config.sync(client=client)
custom.instance.name = new_name
r = client.get_httpx_client().put("/api/v1/config/custom", json=custom.to_dict())
r.raise_for_status()
public = anonymous.get_httpx_client().get("/api/v1/config")
public.raise_for_status()
print("custom name", get_custom_config.sync(client=client).instance.name)
print("public name", public.json()["instance"]["name"])
