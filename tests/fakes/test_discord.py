"""The fake Discord is strict like Discord, and a real discord.py client works against it."""

from __future__ import annotations

import asyncio

import aiohttp
import discord
import pytest

from tests.fakes.discord import FakeClock, FakeDiscord, Faults, point_discord_py_at

TOKEN = "fake-bot-token"
AUTH = {"Authorization": f"Bot {TOKEN}"}


@pytest.fixture
async def fake():
    async with FakeDiscord(token=TOKEN, clock=FakeClock()) as f:
        yield f


@pytest.fixture
async def http():
    async with aiohttp.ClientSession() as s:
        yield s


async def post(http, fake, path, body, headers=AUTH):
    async with http.post(fake.api_url + path, json=body, headers=headers) as r:
        return r.status, dict(r.headers), await r.json(content_type=None)


async def test_answers_are_exactly_application_json_with_via(fake, http):
    async with http.get(fake.api_url + "/users/@me", headers=AUTH) as r:
        assert r.status == 200
        assert r.headers["Content-Type"] == "application/json"
        assert r.headers["Via"]
        me = await r.json()
    assert me["bot"] is True and me["id"] == str(fake.application_id)
    async with http.get(fake.api_url + "/users/@me") as r:
        assert r.status == 401
        assert (await r.json())["message"] == "401: Unauthorized"
    assert fake.status_counts[401] == 1


async def test_message_object_and_limits(fake, http):
    status, _headers, msg = await post(http, fake, "/channels/5/messages", {"content": "hi"})
    assert status == 200
    assert msg["channel_id"] == "5" and msg["content"] == "hi" and int(msg["id"]) > 0
    assert msg["author"]["bot"] is True and msg["embeds"] == []
    too_long = [
        {"content": "x" * 2001},
        {"embeds": [{"title": "t" * 257}]},
        {"embeds": [{"description": "d" * 4097}]},
        {"embeds": [{"fields": [{"name": "n" * 257, "value": "v"}]}]},
        {"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]},
        {"embeds": [{"footer": {"text": "f" * 2049}}]},
        {"embeds": [{"author": {"name": "a" * 257}}]},
        {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]},
        {"embeds": [{"title": "t"}] * 11},
        {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]},
        {"content": "x", "nonce": "n" * 26},
    ]
    for body in too_long:
        status, _, err = await post(http, fake, "/channels/6/messages", body)
        assert status == 400, body
        assert err["code"] == 50035 and err["errors"], body
    status, _, err = await post(http, fake, "/channels/6/messages", {"content": ""})
    assert (status, err["code"]) == (400, 50006)
    assert fake.posted(6) == []
    # exactly at every limit is fine
    ok = {
        "embeds": [
            {
                "title": "t" * 256,
                "description": "d" * 2000,
                "fields": [{"name": "n" * 10, "value": "v" * 1024}] * 3,
                "footer": {"text": "f" * 100},
                "author": {"name": "a" * 256},
            }
        ]
    }
    status, _, msg = await post(http, fake, "/channels/6/messages", ok)
    assert status == 200 and msg["embeds"][0]["type"] == "rich"


async def test_enforced_nonce_returns_the_original(fake, http):
    body = {"content": "digest", "nonce": "hp1d20210803p0", "enforce_nonce": True}
    _, _, first = await post(http, fake, "/channels/7/messages", body)
    _, _, again = await post(http, fake, "/channels/7/messages", body)
    assert again["id"] == first["id"] and len(fake.posted(7)) == 1
    assert fake.duplicates_prevented == 1
    # another channel, or without enforce_nonce, or after the window: a new message
    await post(http, fake, "/channels/8/messages", body)
    await post(http, fake, "/channels/7/messages", {**body, "enforce_nonce": False})
    fake.clock.advance(fake.nonce_window + 1)
    await post(http, fake, "/channels/7/messages", body)
    assert len(fake.posted(7)) == 3 and len(fake.posted(8)) == 1


async def test_channel_bucket_headers_and_429(fake, http):
    for n in range(5):
        status, h, _ = await post(http, fake, "/channels/9/messages", {"content": str(n)})
        assert status == 200
        assert h["X-RateLimit-Limit"] == "5"
        assert h["X-RateLimit-Remaining"] == str(4 - n)
        assert float(h["X-RateLimit-Reset-After"]) == pytest.approx(5.0)
        assert h["X-RateLimit-Bucket"] and float(h["X-RateLimit-Reset"]) > 1e9
    status, h, body = await post(http, fake, "/channels/9/messages", {"content": "6"})
    assert status == 429
    assert h["X-RateLimit-Scope"] == "user" and h["Via"] and h["Retry-After"] == "5"
    assert body == {
        "message": "You are being rate limited.",
        "retry_after": 5.0,
        "global": False,
        "code": 0,
    }
    fake.clock.advance(5)
    status, _, _ = await post(http, fake, "/channels/9/messages", {"content": "7"})
    assert status == 200
    assert fake.route_429s == 1 and len(fake.posted(9)) == 6


async def test_global_limit(http):
    clock = FakeClock()
    async with FakeDiscord(token=TOKEN, clock=clock, global_limit=3) as fake:
        statuses = []
        for n in range(4):
            statuses.append(
                (await post(http, fake, f"/channels/{n}/messages", {"content": "x"}))[0]
            )
        assert statuses == [200, 200, 200, 429]
        status, h, body = await post(http, fake, "/channels/9/messages", {"content": "x"})
        assert status == 429 and body["global"] is True and h["X-RateLimit-Global"] == "true"
        assert h["X-RateLimit-Scope"] == "global"
        clock.advance(1.0)
        assert (await post(http, fake, "/channels/9/messages", {"content": "x"}))[0] == 200
        assert fake.global_429s == 2


async def test_channel_states(fake, http):
    fake.add_channel(1, state="no_access")
    fake.add_channel(2, state="no_permission")
    fake.add_channel(3, state="unknown")
    expected = {1: (403, 50001), 2: (403, 50013), 3: (404, 10003)}
    for cid, want in expected.items():
        status, _, body = await post(http, fake, f"/channels/{cid}/messages", {"content": "x"})
        assert (status, body["code"]) == want
    assert fake.invalid_requests == 2


async def test_faults_are_injected(http):
    async with FakeDiscord(token=TOKEN, faults=Faults(rate_limit=0.3, server_error=0.1)) as fake:
        fake.global_limit = 10_000
        statuses = [
            (await post(http, fake, f"/channels/{n}/messages", {"content": "x"}))[0]
            for n in range(200)
        ]
    assert 40 <= statuses.count(429) <= 80
    assert 5 <= sum(s >= 500 for s in statuses) <= 40
    assert fake.injected_429s == statuses.count(429)


async def test_webhook_execute(fake, http):
    url = fake.add_webhook(channel_id=42)
    async with http.post(url + "?wait=true", json={"content": "via hook"}) as r:
        assert r.status == 200 and r.headers["X-RateLimit-Bucket"]
        msg = await r.json()
    assert msg["webhook_id"] and fake.posted(42)[0]["content"] == "via hook"
    async with http.post(url, json={"content": "no wait"}) as r:
        assert r.status == 204
    async with http.post(url + "x?wait=true", json={"content": "x"}) as r:
        assert r.status == 404 and (await r.json())["code"] == 10015


async def test_commands_bulk_overwrite(fake, http):
    app = fake.application_id
    async with http.put(
        f"{fake.api_url}/applications/{app}/guilds/1/commands",
        json=[{"name": "hot", "description": "Hot papers", "type": 1}],
        headers=AUTH,
    ) as r:
        assert r.status == 200
        (cmd,) = await r.json()
    assert cmd["name"] == "hot" and cmd["guild_id"] == "1" and cmd["id"]
    async with http.put(
        f"{fake.api_url}/applications/{app}/commands",
        json=[{"name": "Hot", "description": "x", "type": 1}],
        headers=AUTH,
    ) as r:
        assert r.status == 400 and (await r.json())["code"] == 50035


class _Client(discord.Client):
    def __init__(self) -> None:
        super().__init__(intents=discord.Intents(guilds=True), guild_ready_timeout=0.05)
        self.ready = asyncio.Event()
        self.interactions: list[discord.Interaction] = []
        self.resumed = asyncio.Event()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py sleeps 5 s before every re-IDENTIFY; not needed against the fake."""

    async def on_ready(self) -> None:
        self.ready.set()

    async def on_resumed(self) -> None:
        self.resumed.set()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        self.interactions.append(interaction)


@pytest.fixture
async def client(fake):
    fake.add_guild(10, "Papers club", channels={11: "hot-papers", 12: "general"})
    with point_discord_py_at(fake):
        c = _Client()
        await c.login(TOKEN)
        task = asyncio.create_task(c.connect())
        await asyncio.wait_for(c.ready.wait(), 5)
        yield c
        await c.close()
        await asyncio.wait_for(task, 5)  # connect() returns once the client is closed


async def test_real_discord_py_client_logs_in_and_posts(fake, client):
    assert client.user.id == fake.application_id
    assert client.application_id == fake.application_id
    guild = client.get_guild(10)
    assert guild is not None and guild.name == "Papers club"
    channel = client.get_channel(11)
    assert channel.name == "hot-papers"
    msg = await channel.send(
        "hello", embed=discord.Embed(title="Paper"), allowed_mentions=discord.AllowedMentions.none()
    )
    assert msg.id and msg.content == "hello" and msg.embeds[0].title == "Paper"
    (stored,) = fake.posted(11)
    assert stored["nonce"] and stored["_allowed_mentions"] == {"parse": []}
    ops = [e["op"] for e in fake.gateway_log]
    assert 2 in ops and 1 in ops  # identify and heartbeat
    assert all(e["d"].get("token") in (None, "<redacted>") for e in fake.gateway_log if e["d"])


async def test_gateway_reconnect_and_invalid_session(fake, client):
    await fake.send_reconnect()
    await asyncio.wait_for(client.resumed.wait(), 5)
    assert fake.resumes == 1 and fake.identifies == 1
    client.ready.clear()
    await fake.send_invalid_session(resumable=False)
    await asyncio.wait_for(client.ready.wait(), 10)
    assert fake.identifies == 2
    client.resumed.clear()
    await fake.drop_sockets()
    await asyncio.wait_for(client.resumed.wait(), 10)
    assert fake.resumes == 2


async def test_interaction_callbacks_and_deadline(fake, client):
    inter = await fake.interact(fake.slash("hot"), guild_id=10, channel_id=11)
    await fake.wait_until(lambda: client.interactions)
    got = client.interactions[0]
    assert got.id == inter.id and got.guild_id == 10
    await got.response.send_message("ranked", ephemeral=True)
    assert inter.response["type"] == 4 and inter.response["data"]["flags"] == 64
    assert fake.callbacks[0]["interaction_id"] == inter.id
    await got.followup.send("more")
    assert inter.followups[0]["content"] == "more"
    async with aiohttp.ClientSession() as http:
        status, _, body = await post(
            http,
            fake,
            f"/interactions/{inter.id}/{inter.token}/callback",
            {"type": 4, "data": {"content": "x"}},
        )
    assert (status, body["code"]) == (400, 40060)
    # late: past 3 s on the fake clock
    late = await fake.interact(fake.slash("hot"), guild_id=10, channel_id=11)
    await fake.wait_until(lambda: len(client.interactions) == 2)
    fake.clock.advance(3.01)
    with pytest.raises(discord.NotFound) as err:
        await client.interactions[1].response.send_message("too late")
    assert err.value.code == 10062 and late.response is None
