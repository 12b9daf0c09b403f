"""Log in to a PeerTube-compatible server with the `peertube` PyPI client and list users,
channels and videos. Usage: pyclient.py BASE_URL USERNAME PASSWORD"""
import sys

from peertube import AuthenticatedClient, Client
from peertube.api.session import get_o_auth_client
from peertube.api.users import get_users
from peertube.api.video import get_videos
from peertube.api.video_channels import get_video_channels
from peertube.models.get_o_auth_token_response_200 import GetOAuthTokenResponse200

base, user, password = sys.argv[1:4]
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
