"""The async API client against the WeChat emulator: tokens, retries, error mapping, media cache."""

import asyncio
import logging

import pytest

from voicebot.channels.wechat import MemoryCache, WechatApi, WechatApiError
from voicebot.config import WechatConfig
from voicebot.testing.wechat_emulator import Clock, WechatEmulator
from voicebot.testing.wechat_media import synth

CS_SEND = "/cgi-bin/message/custom/send"


@pytest.fixture(scope="module")
def amr():
    return synth(2)


@pytest.fixture
async def wx(aiohttp_server):
    """(emulator, api) sharing one clock; the user ``oBuyer`` has just written to the account."""
    emulator = WechatEmulator(clock=Clock(1_714_000_000))
    server = await aiohttp_server(emulator.app)
    emulator.url = str(server.make_url(""))
    config = WechatConfig(
        app_id=emulator.account.app_id, app_secret=emulator.account.app_secret, api_base=str(server.make_url(""))
    )
    api = WechatApi(config, clock=emulator.clock)
    emulator.user_message("oBuyer")
    yield emulator, api
    await api.close()


async def test_ten_concurrent_sends_fetch_one_token(wx):
    emulator, api = wx
    emulator.account.window_quota = 10
    emulator.user_message("oBuyer")
    await asyncio.gather(*(api.send_text("oBuyer", f"第{i}条") for i in range(10)))
    assert emulator.calls_to("/cgi-bin/token") == 1 and api.token_fetches == 1
    assert sorted(s.payload["text"]["content"] for s in emulator.sent) == sorted(f"第{i}条" for i in range(10))


async def test_token_is_reused_and_refreshed_early_before_expiry(wx):
    emulator, api = wx
    emulator.account.window_quota = 10
    emulator.user_message("oBuyer")
    await api.send_text("oBuyer", "a")
    emulator.clock.advance(7200 - 600)
    await api.send_text("oBuyer", "b")
    assert emulator.calls_to("/cgi-bin/token") == 1
    emulator.clock.advance(400)  # 200 s before expiry: inside the 5-minute margin
    await api.send_text("oBuyer", "c")
    assert emulator.calls_to("/cgi-bin/token") == 2
    assert emulator.calls_to(CS_SEND) == 3  # no send ever hit an expired token


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
async def test_invalid_token_refreshes_and_retries_once(wx, errcode):
    emulator, api = wx
    emulator.fail_next(errcode, path=CS_SEND)
    await api.send_text("oBuyer", "hi")
    assert emulator.calls_to("/cgi-bin/token") == 2
    assert emulator.calls_to(CS_SEND) == 2
    assert len(emulator.sent) == 1


async def test_token_retired_by_another_process_is_replaced(wx):
    emulator, api = wx
    await api.send_text("oBuyer", "1")
    emulator._issue_token()  # another process fetched a token: ours dies 5 minutes later
    emulator.clock.advance(301)
    await api.send_text("oBuyer", "2")
    assert [s.payload["text"]["content"] for s in emulator.sent] == ["1", "2"]


async def test_token_in_hand_is_used_without_reading_the_shared_cache(wx):
    """Calls reuse the token in memory; a token another process put in the shared cache is picked up
    once WeChat retires ours, without a token fetch of our own."""
    emulator, _ = wx
    shared = MemoryCache(emulator.clock)
    reads = []

    class Counted(MemoryCache):
        async def get(self, key):
            reads.append(key)
            return await shared.get(key)

        async def set(self, key, value, expires_at):
            await shared.set(key, value, expires_at)

    config = WechatConfig(app_id=emulator.account.app_id, app_secret=emulator.account.app_secret,
                          api_base=emulator.url)
    async with WechatApi(config, clock=emulator.clock, token_cache=Counted()) as ours, \
            WechatApi(config, clock=emulator.clock, token_cache=shared) as other:
        emulator.account.window_quota = 10
        emulator.user_message("oBuyer")
        for i in range(3):
            await ours.send_text("oBuyer", str(i))
        assert len(reads) == 1 and ours.token_fetches == 1  # read once (empty), then fetched and kept
        await other.access_token(stale=await other.access_token())  # the other process refreshes
        emulator.clock.advance(301)  # ours is retired
        await ours.send_text("oBuyer", "3")
        assert ours.token_fetches == 1 and other.token_fetches == 1 and len(reads) == 2
    assert [s.payload["text"]["content"] for s in emulator.sent] == ["0", "1", "2", "3"]


async def test_persistent_token_failure_is_retried_only_once(wx):
    emulator, api = wx
    emulator.fail_next(40001, times=5, path=CS_SEND)
    with pytest.raises(WechatApiError) as e:
        await api.send_text("oBuyer", "hi")
    assert e.value.errcode == 40001
    assert emulator.calls_to(CS_SEND) == 2


async def test_quota_and_window_errors_are_permanent_and_not_retried(wx):
    emulator, api = wx
    for i in range(5):
        await api.send_text("oBuyer", str(i))
    with pytest.raises(WechatApiError) as quota:
        await api.send_text("oBuyer", "6th")
    assert (quota.value.errcode, quota.value.permanent, quota.value.window_closed) == (45047, True, True)
    assert emulator.calls_to(CS_SEND) == 6
    with pytest.raises(WechatApiError) as window:
        await api.send_text("oStranger", "hi")
    assert (window.value.errcode, window.value.retryable, window.value.no_permission) == (45015, False, False)


async def test_no_permission_and_retryable_errors(wx):
    emulator, api = wx
    emulator.account.customer_service = False
    with pytest.raises(WechatApiError) as denied:
        await api.send_text("oBuyer", "hi")
    assert denied.value.no_permission and denied.value.permanent
    emulator.account.customer_service = True
    for code in (-1, 45009):
        emulator.fail_next(code, path=CS_SEND)
        with pytest.raises(WechatApiError) as busy:
            await api.send_text("oBuyer", "hi")
        assert (busy.value.errcode, busy.value.retryable) == (code, True)
    emulator.fail_next(None, path=CS_SEND, http_status=503)
    with pytest.raises(WechatApiError) as unavailable:
        await api.send_text("oBuyer", "hi")
    assert unavailable.value.http_status == 503 and unavailable.value.retryable


async def test_bad_credentials_are_permanent(wx):
    emulator, api = wx
    api.config.app_secret = "wrong"
    with pytest.raises(WechatApiError) as e:
        await api.send_text("oBuyer", "hi")
    assert (e.value.errcode, e.value.permanent) == (40125, True)


async def test_upload_dedups_identical_bytes_and_sends_voice(wx, amr):
    emulator, api = wx
    first = await api.upload_media("voice", amr, "reply.amr")
    again = await api.upload_media("voice", amr, "other-name.amr")
    assert first == again and len(emulator.uploads) == 1
    other = await api.upload_media("voice", synth(1), "reply.amr")
    assert other != first and len(emulator.uploads) == 2
    await api.send_voice("oBuyer", first)
    assert emulator.sent[0].media.data == amr
    emulator.clock.advance(3 * 86400 - 1800)  # under an hour left: upload afresh rather than risk it
    assert await api.upload_media("voice", amr, "reply.amr") != first
    assert len(emulator.uploads) == 3


async def test_upload_rejection_surfaces_errcode(wx):
    _, api = wx
    with pytest.raises(WechatApiError) as e:
        await api.upload_media("voice", synth(1, "wav"), "reply.wav")
    assert (e.value.errcode, e.value.permanent) == (40004, True)


async def test_download_media_returns_bytes_or_raises_on_json_error(wx, amr):
    emulator, api = wx
    media_id = emulator.put_media(amr)
    assert await api.download_media(media_id) == amr
    with pytest.raises(WechatApiError) as e:
        await api.download_media("expired-or-forged")
    assert e.value.errcode == 40007


async def test_stable_token_mode(wx):
    emulator, api = wx
    api.stable_token = True
    await api.send_text("oBuyer", "hi")
    assert emulator.calls_to("/cgi-bin/stable_token") == 1 and emulator.calls_to("/cgi-bin/token") == 0


async def test_secret_and_token_never_logged(wx, caplog):
    emulator, api = wx
    caplog.set_level(logging.DEBUG)
    emulator.fail_next(40001, path=CS_SEND)
    await api.send_text("oBuyer", "hi")
    with pytest.raises(WechatApiError):
        await api.download_media("nope")
    ours = [r for r in caplog.records if r.name.startswith("voicebot")]  # not the emulator's access log
    logged = " ".join(r.getMessage() + str(getattr(r, "fields", "")) for r in ours)
    assert "wechat.token_fetched" in logged and "wechat.api_error" in logged
    assert emulator.account.app_secret not in logged
    assert all(token not in logged for token in emulator.tokens)


async def test_voice_note_round_trip_through_webhook_emulator_and_api(wx, aiohttp_server, amr):
    """A user's voice note goes in through the webhook; the reply goes out by customer-service voice."""
    from aiohttp import web

    from voicebot.channels.wechat import WechatWebhook
    from voicebot.testing.wechat_emulator import WechatClient

    emulator, api = wx
    reply_audio = synth(1, freq=660)
    received = []

    async def on_message(msg, mode, encoder):
        received.append(await api.download_media(msg.media_id))
        await api.send_voice(msg.from_user, await api.upload_media("voice", reply_audio, "reply.amr"))
        return None

    config = WechatConfig(token="tok", app_id=emulator.account.app_id, encoding_aes_key="a" * 43)
    app = web.Application()
    app.router.add_routes(WechatWebhook(config, on_message).routes())
    hook = await aiohttp_server(app)
    async with WechatClient(
        str(hook.make_url("/wechat")), "tok", app_id=config.app_id, mode="safe", encoding_aes_key="a" * 43, emulator=emulator
    ) as client:
        user = client.user()
        delivery = await user.send_voice(amr)
    assert delivery.reply.kind == "success"
    assert received == [amr]
    [sent] = emulator.sent_to(user.openid)
    assert sent.msgtype == "voice" and sent.media.data == reply_audio
