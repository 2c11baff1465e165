"""The conversation router's state machine: who answers, and what everybody sees.

The bot here is a scripted stand-in for Rasa's REST replies (the router's only dependency on it is
`send`); the gateway and browser tests run the same router against live servers.
"""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.conversation_store import ConversationStore
from bot.router import (
    BOT_FAILURES_BEFORE_HANDOFF,
    NOTICE_BOT_DOWN,
    NOTICE_HANDED_BACK,
    NOTICE_LEFT_QUEUE,
    NOTICE_RATING_AFTER_RESOLUTION,
    NOTICE_STILL_WAITING,
    NOTICE_TOO_FAST,
    NOTICE_WAITING,
    BotUnavailable,
    ConversationConflict,
    MessageLimiter,
    Router,
)

HANDOFF = {"custom": {"handoff": {"reason": "用户要求人工", "summary": "企业反映停水", "ticket_id": "20261127001"}}}
FILED = {"text": "已经为您登记好了，工单编号是 2026 1127 001。", "custom": {"ticket": {"id": "20261127001", "action": "filed"}}}


class ScriptedBot:
    """Answers like Rasa's REST channel; records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, dict]] = []
        self.recorded: list[tuple[str, list[str], str | None]] = []
        self.down = False

    async def record_operator_turns(self, sender: str, texts: list[str], ticket_id: str | None) -> None:
        if self.down:
            raise BotUnavailable("connection refused")
        self.recorded.append((sender, texts, ticket_id))

    async def send(self, sender: str, text: str, metadata: dict) -> list[dict]:
        self.asked.append((sender, text, metadata))
        if self.down:
            raise BotUnavailable("connection refused")
        if "人工" in text:
            return [{"text": "好的，正在为您转接人工客服。"}, HANDOFF]
        if "沉默" in text:
            return []  # a turn whose action failed: Rasa answers with nothing
        if "登记" in text:
            return [FILED]
        return [{"text": f"收到：{text}", "buttons": [{"title": "转人工", "payload": "/request_human"}]}]


class FakeTickets:
    def __init__(self, resolved: set[str]) -> None:
        self.resolved = resolved
        self.ratings: list[tuple[str, int, str]] = []

    async def rate(self, conversation_id: str, ticket_id: str, score: int, comment: str) -> str:
        if ticket_id not in self.resolved:
            return "not_resolved"
        self.ratings.append((ticket_id, score, comment))
        return "rated"


@pytest.fixture
def bot() -> ScriptedBot:
    return ScriptedBot()


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(tmp_path / "gateway.db")


@pytest.fixture
def router(store: ConversationStore, bot: ScriptedBot) -> Router:
    return Router(store, bot, tickets=FakeTickets({"20261127001"}), limiter=MessageLimiter(500, 100))


def run(coro):
    return asyncio.run(coro)


def _taken_by_alice(router: Router, first_words: str) -> None:
    """Chat s1 asks for a person, alice claims it and answers: where every hand-back story starts."""
    run(router.handle_user_message("s1", "转人工"))
    run(router.claim("s1", "alice"))
    run(router.operator_reply("s1", "alice", first_words))


def test_a_new_conversation_is_answered_by_the_bot(router: Router, bot: ScriptedBot) -> None:
    replies = run(router.handle_user_message("s1", "你好", channel="web"))
    assert [(r["role"], r["text"]) for r in replies] == [("bot", "收到：你好")]
    assert replies[0]["buttons"] == [{"title": "转人工", "payload": "/request_human"}]
    assert router.conversation("s1").state == "bot"
    assert bot.asked == [("s1", "你好", {"channel": "web"})]
    assert [m["role"] for m in router.history("s1")] == ["user", "bot"]


def test_control_characters_and_broken_unicode_are_dropped_not_fatal(router: Router, bot: ScriptedBot) -> None:
    replies = run(router.handle_user_message("s1", "停\x00水\ud800了\r\n三号楼", channel="web"))
    assert bot.asked[-1][1] == "停水了\n三号楼"
    assert replies[0]["role"] == "bot" and router.history("s1")[0]["text"] == "停水了\n三号楼"
    assert run(router.handle_user_message("s1", "\x00\ud800"))[0]["transient"]  # nothing left: asked to type


def test_an_operator_reads_a_chat_line_in_the_order_it_was_typed(router: Router, bot: ScriptedBot) -> None:
    run(router.handle_user_message("s1", "我要撤销\u202e单工的我\u202c", channel="web"))
    assert bot.asked[-1][1] == "我要撤销单工的我"
    assert "\u202e" not in router.history("s1")[0]["text"]


def test_traditional_characters_reach_the_bot_simplified_and_stay_in_the_transcript(router: Router,
                                                                                    bot: ScriptedBot) -> None:
    run(router.handle_user_message("s1", "我們園區的路燈壞了", channel="web"))
    assert bot.asked[-1][1] == "我们园区的路灯坏了"
    assert router.history("s1")[0]["text"] == "我們園區的路燈壞了"  # an operator reads what was typed


def test_a_quick_reply_sends_its_payload_to_the_bot_and_shows_its_title(router: Router, bot: ScriptedBot) -> None:
    run(router.handle_user_message("s1", "你好"))  # the bot offers the quick reply 转人工
    run(router.handle_user_message("s1", "转人工", metadata={"payload": "/request_human"}))
    assert bot.asked[-1][1] == "/request_human"
    assert router.history("s1")[2]["text"] == "转人工"


def test_a_payload_the_bot_did_not_offer_is_sent_as_the_users_text(router: Router, bot: ScriptedBot) -> None:
    forged = '/inform{"phone": "13812345678", "ticket_id": "2611270001"}'
    run(router.handle_user_message("s1", "查询工单", metadata={"payload": forged}))
    assert bot.asked[-1][1] == "查询工单"
    run(router.handle_user_message("s1", "再来", metadata={"payload": "/check_ticket"}))  # offered: only 转人工
    assert bot.asked[-1][1] == "再来"


def test_a_handoff_payload_puts_the_conversation_in_the_queue(router: Router) -> None:
    replies = run(router.handle_user_message("s1", "转人工", channel="voice", metadata={"phone": "13812345678"}))
    conv = router.conversation("s1")
    assert conv.state == "waiting"
    assert conv.waiting_since is not None
    assert conv.handoff_summary == "企业反映停水"
    assert conv.ticket_ids == []  # a handoff names a ticket; only a `ticket` payload links one
    assert replies[-1]["role"] == "system" and replies[-1]["text"] == NOTICE_WAITING
    [item] = router.queue()
    assert (item["id"], item["channel"], item["phone"], item["state"]) == ("s1", "voice", "13812345678", "waiting")


def test_while_waiting_and_with_an_operator_the_bot_is_not_asked(router: Router, bot: ScriptedBot) -> None:
    run(router.handle_user_message("s1", "转人工"))
    asked = len(bot.asked)
    waiting_reply = run(router.handle_user_message("s1", "还在吗"))
    assert waiting_reply[0]["role"] == "system" and waiting_reply[0]["transient"]
    run(router.claim("s1", "alice"))
    assert run(router.handle_user_message("s1", "我的水停了")) == []
    assert len(bot.asked) == asked
    assert [m["text"] for m in router.history("s1") if m["role"] == "user"][-2:] == ["还在吗", "我的水停了"]


def test_only_one_operator_owns_a_conversation(router: Router) -> None:
    run(router.handle_user_message("s1", "转人工"))
    run(router.claim("s1", "alice"))
    with pytest.raises(ConversationConflict):
        run(router.claim("s1", "bob"))
    with pytest.raises(ConversationConflict):
        run(router.operator_reply("s1", "bob", "我来"))
    with pytest.raises(ConversationConflict):
        run(router.hand_back("s1", "bob"))
    assert router.conversation("s1").operator == "alice"


def test_an_operator_cannot_reply_before_claiming(router: Router) -> None:
    run(router.handle_user_message("s1", "转人工"))
    with pytest.raises(ConversationConflict):
        run(router.operator_reply("s1", "alice", "您好"))


def test_refusals_name_the_conversation_state_in_chinese(router: Router) -> None:
    run(router.handle_user_message("s1", "转人工"))
    run(router.claim("s1", "alice"))
    with pytest.raises(ConversationConflict) as taken:
        run(router.claim("s1", "bob"))
    assert "人工服务中" in str(taken.value) and "operator" not in str(taken.value)
    run(router.close("s1", "alice"))
    with pytest.raises(ConversationConflict) as closed:
        run(router.claim("s1", "bob"))
    assert str(closed.value) == "该会话当前状态为“已结束”，无法接入"


def test_replying_to_a_closed_conversation_says_it_has_ended(router: Router) -> None:
    run(router.handle_user_message("s1", "转人工"))
    run(router.claim("s1", "alice"))
    run(router.close("s1", "alice"))
    with pytest.raises(ConversationConflict) as refused:
        run(router.operator_reply("s1", "alice", "还在吗"))
    assert "会话已结束" in str(refused.value) and "接入" not in str(refused.value)


def test_operator_replies_reach_subscribers_and_hand_back_returns_to_the_bot(router: Router, bot: ScriptedBot) -> None:
    async def scenario() -> list[dict]:
        await router.handle_user_message("s1", "转人工")
        async with router.subscribe("s1") as events:
            await router.claim("s1", "alice")
            await router.operator_reply("s1", "alice", "您好，我是客服小王")
            await router.hand_back("s1", "alice")
            seen = []
            while not events.empty():
                seen.append(events.get_nowait())
            return seen

    events = run(scenario())
    messages = [e["message"] for e in events if e["type"] == "message"]
    assert [(m["role"], m.get("operator")) for m in messages] == [("system", None), ("operator", "alice"), ("system", None)]
    assert [e["state"] for e in events if e["type"] == "state"] == ["operator", "bot"]
    assert router.conversation("s1").state == "bot" and router.queue() == []
    replies = run(router.handle_user_message("s1", "谢谢"))
    assert replies[0]["role"] == "bot" and bot.asked[-1][1] == "谢谢"


def test_a_message_left_unanswered_when_the_operator_hands_back_is_answered_by_the_bot(
        router: Router, bot: ScriptedBot) -> None:
    _taken_by_alice(router, "您好，请讲")
    run(router.handle_user_message("s1", "我想查一下进度"))  # stored while alice still has the chat
    asked = len(bot.asked)
    conv = run(router.hand_back("s1", "alice"))
    assert bot.asked[asked:] and bot.asked[-1][1] == "我想查一下进度"
    assert [(m["role"], m["text"]) for m in router.history("s1")[-2:]] == [
        ("system", NOTICE_HANDED_BACK), ("bot", "收到：我想查一下进度")]
    assert conv.state == "bot"


def test_the_bot_learns_what_the_operator_said_and_their_ticket_when_the_chat_comes_back(
        router: Router, bot: ScriptedBot) -> None:
    _taken_by_alice(router, "您好，我先帮您看看")
    run(router.hand_back("s1", "alice"))
    _taken_by_alice(router, "已经为您登记了停水的问题")
    router.add_ticket("s1", "20261203001")  # filed in the console for this chat
    run(router.operator_reply("s1", "alice", "还有别的需要吗"))
    run(router.hand_back("s1", "alice"))
    # Each hand-back brings the words of its own human part, never the earlier ones again.
    assert bot.recorded == [("s1", ["您好，我先帮您看看"], None),
                            ("s1", ["已经为您登记了停水的问题", "还有别的需要吗"], "20261203001")]


def test_an_operator_closing_the_chat_leaves_their_words_with_the_bot_too(router: Router, bot: ScriptedBot) -> None:
    _taken_by_alice(router, "问题已经处理好了，再见")
    run(router.close("s1", "alice"))
    assert bot.recorded == [("s1", ["问题已经处理好了，再见"], None)]
    run(router.handle_user_message("s2", "转人工"))
    run(router.close("s2", "alice"))  # closed from the queue: nobody said anything
    assert len(bot.recorded) == 1


def test_a_hand_back_goes_through_while_the_bot_cannot_take_the_operator_part(router: Router, bot: ScriptedBot) -> None:
    _taken_by_alice(router, "稍后给您回电")
    bot.down = True
    conv = run(router.hand_back("s1", "alice"))
    assert conv.state == "bot" and router.history("s1")[-1]["text"] == NOTICE_HANDED_BACK


def test_a_hand_back_after_the_operator_answered_asks_the_bot_nothing(router: Router, bot: ScriptedBot) -> None:
    run(router.handle_user_message("s1", "转人工"))
    run(router.claim("s1", "alice"))
    run(router.handle_user_message("s1", "在吗"))
    run(router.operator_reply("s1", "alice", "在的，已经帮您处理好了"))
    asked = len(bot.asked)
    run(router.hand_back("s1", "alice"))
    assert bot.asked[asked:] == [] and router.history("s1")[-1]["text"] == NOTICE_HANDED_BACK


def test_what_brought_the_chat_to_a_person_is_not_asked_again_at_hand_back(router: Router, bot: ScriptedBot) -> None:
    bot.down = True
    run(router.handle_user_message("s1", "转人工"))  # escalated by the router: no bot message after it
    bot.down = False
    run(router.claim("s1", "alice"))
    asked = len(bot.asked)
    conv = run(router.hand_back("s1", "alice"))
    assert bot.asked[asked:] == [] and conv.state == "bot"


def test_thanks_left_at_hand_back_while_the_bot_is_down_do_not_bounce_the_chat_to_the_queue(
        router: Router, bot: ScriptedBot) -> None:
    _taken_by_alice(router, "已经帮您登记好了")
    run(router.handle_user_message("s1", "好的，谢谢客服"))
    bot.down = True
    conv = run(router.hand_back("s1", "alice"))
    assert conv.state == "bot"


def test_a_query_code_in_a_widget_rating_comment_never_reaches_the_ticket(store: ConversationStore,
                                                                         bot: ScriptedBot) -> None:
    tickets = FakeTickets(resolved={"20261127001"})
    router = Router(store, bot, tickets=tickets)
    run(router.handle_user_message("s1", "帮我登记"))  # the bot files ticket 20261127001
    run(router.rate_ticket("s1", "20261127001", 2, "查询码 361510，还是没修好"))
    run(router.rate("s1", 2, "路灯修好了 217593，等了15天"))
    assert [comment for _, _, comment in tickets.ratings] == ["还是没修好", "路灯修好了，等了15天"]


def test_a_closed_conversation_opens_again_with_the_bot(router: Router) -> None:
    run(router.handle_user_message("s1", "转人工"))
    run(router.claim("s1", "alice"))
    run(router.close("s1", "alice"))
    assert router.conversation("s1").state == "closed"
    assert router.history("s1")[-1].get("rating_requested") is True
    replies = run(router.handle_user_message("s1", "又来了"))
    assert router.conversation("s1").state == "bot" and replies[0]["role"] == "bot"


def test_rating_closes_the_chat_and_reaches_resolved_tickets(store: ConversationStore, bot: ScriptedBot) -> None:
    tickets = FakeTickets(resolved={"20261127001"})
    router = Router(store, bot, tickets=tickets)
    run(router.handle_user_message("s1", "帮我登记"))  # the bot files ticket 20261127001
    replies = run(router.rate("s1", 5, "很满意"))
    assert tickets.ratings == [("20261127001", 5, "很满意")]
    assert any("20261127001" in r["text"] for r in replies)
    conv = router.conversation("s1")
    assert (conv.state, conv.rating, conv.rating_comment) == ("closed", 5, "很满意")
    with pytest.raises(ValueError):
        run(router.rate("s1", 9))


def test_a_rating_for_a_ticket_still_in_progress_is_left_to_its_callback(
        store: ConversationStore, bot: ScriptedBot) -> None:
    tickets = FakeTickets(resolved=set())
    router = Router(store, bot, tickets=tickets)
    run(router.handle_user_message("s1", "帮我登记"))
    replies = run(router.rate("s1", 4))
    assert tickets.ratings == []
    assert NOTICE_RATING_AFTER_RESOLUTION.format(ticket_id="20261127001") in [r["text"] for r in replies]


def test_tickets_are_learned_from_the_ticket_payload_never_from_the_text(store: ConversationStore) -> None:
    class TicketBot(ScriptedBot):
        async def send(self, sender: str, text: str, metadata: dict) -> list[dict]:
            return [
                # The filing reply reads the number in groups; the payload carries it whole.
                {"text": "已经为您登记好了，工单编号是 2611 2700 01。",
                 "custom": {"ticket": {"id": "2611270001", "action": "filed"}}},
                # A number in the text (a read-back echoing the user's words) links nothing.
                {"text": "我核对一下：内容是：请评价工单编号：2611250017。"},
                # Malformed payloads are ignored.
                {"custom": {"ticket": {"id": "12ab", "action": "filed"}}},
                {"custom": {"ticket": {"id": "2611270002", "action": "stolen"}}},
                {"custom": {"ticket": "2611270003"}},
            ]

    router = Router(store, TicketBot())
    run(router.handle_user_message("s1", "报修"))
    assert router.conversation("s1").ticket_ids == ["2611270001"]


def test_when_the_bot_is_down_the_user_is_told_and_can_still_reach_a_human(router: Router, bot: ScriptedBot) -> None:
    bot.down = True
    replies = run(router.handle_user_message("s1", "你好"))
    assert [r["text"] for r in replies] == [NOTICE_BOT_DOWN]
    run(router.handle_user_message("s1", "转人工"))
    conv = router.conversation("s1")
    assert (conv.state, conv.handoff_reason) == ("waiting", "bot_unavailable")
    assert "智能助手暂时无法回复" in conv.handoff_summary and "你好" in conv.handoff_summary


class SilentBot(ScriptedBot):
    """Rasa is up but the action server is not: every turn (转人工's action_handoff too) says nothing."""

    async def send(self, sender: str, text: str, metadata: dict) -> list[dict]:
        self.asked.append((sender, text, metadata))
        return []


@pytest.mark.parametrize("asked", ["转人工", "我要人工客服", "找客服", "帮我转真人"])
def test_when_the_bot_answers_nothing_asking_for_a_person_reaches_the_queue(store: ConversationStore,
                                                                            asked: str) -> None:
    router = Router(store, SilentBot())
    assert [r["text"] for r in run(router.handle_user_message("s1", "停电了"))] == [NOTICE_BOT_DOWN]
    replies = run(router.handle_user_message("s1", asked))
    assert [r["text"] for r in replies] == [NOTICE_WAITING]
    conv = router.conversation("s1")
    assert (conv.state, conv.handoff_reason) == ("waiting", "bot_unavailable")
    assert "停电了" in conv.handoff_summary and asked in conv.handoff_summary
    assert [c["id"] for c in router.queue()] == ["s1"]


@pytest.mark.parametrize("said", ["谢谢客服", "好的，谢谢客服", "客服态度很好"])
def test_while_the_bot_answers_nothing_thanking_the_service_is_no_request_for_a_person(
        store: ConversationStore, said: str) -> None:
    router = Router(store, SilentBot())
    assert [r["text"] for r in run(router.handle_user_message("s1", said))] == [NOTICE_BOT_DOWN]
    assert router.conversation("s1").state == "bot" and router.queue() == []


def test_the_outage_handoff_summary_masks_query_codes_and_phones(store: ConversationStore) -> None:
    router = Router(store, SilentBot())
    run(router.handle_user_message("s1", "查询码：362562，工单2612010001路灯还没修，电话13912345678"))
    run(router.handle_user_message("s1", "转人工"))
    summary = router.conversation("s1").handoff_summary
    assert "362562" not in summary and "13912345678" not in summary and "2612010001" in summary


def test_when_the_bot_answers_nothing_the_transfer_quick_reply_reaches_the_queue(store: ConversationStore) -> None:
    router = Router(store, SilentBot())
    run(router.handle_user_message("s1", "你好"))
    # The quick reply as the widget sends it: its title as text, its payload in the metadata.
    store.append("s1", "bot", "请选择：", {"buttons": [{"title": "联系我们", "payload": "/request_human"}]})
    run(router.handle_user_message("s1", "联系我们", metadata={"payload": "/request_human"}))
    assert router.conversation("s1").state == "waiting"


def test_when_the_bot_answers_nothing_other_turns_only_get_the_notice(store: ConversationStore) -> None:
    router = Router(store, SilentBot())
    run(router.handle_user_message("s1", "我想问个政策"))
    assert router.conversation("s1").state == "bot" and router.queue() == []


def test_a_chat_the_bot_keeps_failing_goes_to_the_queue_by_itself(store: ConversationStore) -> None:
    router = Router(store, SilentBot())
    first = [run(router.handle_user_message("s1", text)) for text in ("你好", "停电了，电话13912345678")]
    assert [[r["text"] for r in replies] for replies in first] == [[NOTICE_BOT_DOWN], [NOTICE_BOT_DOWN]]
    assert router.conversation("s1").state == "bot"
    third = run(router.handle_user_message("s1", "怎么还是不行"))
    assert [r["text"] for r in third] == [NOTICE_WAITING]
    conv = router.conversation("s1")
    assert (conv.state, conv.handoff_reason) == ("waiting", "bot_unavailable")
    assert f"连续 {BOT_FAILURES_BEFORE_HANDOFF} 次未能回复" in conv.handoff_summary
    assert "停电了" in conv.handoff_summary and "13912345678" not in conv.handoff_summary


def test_an_answered_turn_starts_the_count_of_failures_again(store: ConversationStore, bot: ScriptedBot) -> None:
    router = Router(store, bot)
    for _ in range(3):  # failure, failure, answer: never three in a row
        run(router.handle_user_message("s1", "沉默"))
        run(router.handle_user_message("s1", "沉默"))
        run(router.handle_user_message("s1", "你好"))
    assert router.conversation("s1").state == "bot" and router.queue() == []
    # Each chat counts its own failures.
    run(router.handle_user_message("s2", "沉默"))
    run(router.handle_user_message("s3", "沉默"))
    assert router.queue() == []


@pytest.mark.parametrize("said", ["算了，不用人工了", "不等了", "取消转人工", "不用人工客服了"])
def test_a_user_waiting_for_a_person_can_go_back_to_the_bot(router: Router, bot: ScriptedBot, said: str) -> None:
    run(router.handle_user_message("s1", "我要转人工"))
    assert router.conversation("s1").state == "waiting"
    asked = len(bot.asked)
    replies = run(router.handle_user_message("s1", said))
    assert [r["text"] for r in replies] == [NOTICE_LEFT_QUEUE]
    assert router.conversation("s1").state == "bot" and router.queue() == []
    assert len(bot.asked) == asked  # nothing else was said: the bot waits for what the user wants


def test_what_else_the_user_says_when_leaving_the_queue_goes_to_the_bot(router: Router, bot: ScriptedBot) -> None:
    run(router.handle_user_message("s1", "我要转人工"))
    replies = run(router.handle_user_message("s1", "算了不等了，我就是想投诉一下物业"))
    assert [r["text"] for r in replies] == [NOTICE_LEFT_QUEUE, "收到：我就是想投诉一下物业"]
    # Other words while waiting are kept for the operator, as before; impatience keeps the place.
    run(router.handle_user_message("s2", "我要转人工"))
    waiting_since = router.conversation("s2").waiting_since
    for said in ("还要等多久", "我不想等太久，能快点吗", "等不了了，快点安排人工", "还是机器人在回复吗",
                 "不转人工我就不等了", "不用客服联系了，我等人工", "不要客服打电话给我", "不等了，人工", "我不等了，人工客服"):
        assert [r["text"] for r in run(router.handle_user_message("s2", said))] == [NOTICE_STILL_WAITING], said
    assert router.conversation("s2").state == "waiting"
    assert router.conversation("s2").waiting_since == waiting_since


def test_typed_text_never_reaches_the_bot_as_an_intent(router: Router, bot: ScriptedBot) -> None:
    for typed in ('/ /cancel_ticket{"ticket_id": "1"}', "/\u3000/greet", "//\n/greet", "／greet", "/\t/greet"):
        run(router.handle_user_message("s-slash", typed))
        sent = bot.asked[-1][1]
        assert not sent.startswith(("/", "／")) and ("greet" in sent or "cancel_ticket" in sent), typed


def test_markup_reaches_the_bot_as_the_words_it_wraps_and_the_transcript_keeps_what_was_typed(
        router: Router, bot: ScriptedBot) -> None:
    run(router.handle_user_message("s-tags", "<b>西安</b>科技有限公司"))
    assert bot.asked[-1][1] == "西安科技有限公司"
    run(router.handle_user_message("s-tags", "\\u0000"))
    assert bot.asked[-1][1] == "？"  # nothing the bot could read: it says it did not understand
    assert [m["text"] for m in router.history("s-tags") if m["role"] == "user"] == ["<b>西安</b>科技有限公司", "\\u0000"]


def test_a_turn_the_bot_answers_with_nothing_gets_a_notice_not_silence(router: Router) -> None:
    replies = run(router.handle_user_message("s-quiet", "沉默"))
    assert [(r["role"], r["text"]) for r in replies] == [("system", NOTICE_BOT_DOWN)]
    assert [m["text"] for m in router.history("s-quiet")][-1] == NOTICE_BOT_DOWN


def test_limits_answer_politely_and_store_nothing(store: ConversationStore, bot: ScriptedBot) -> None:
    router = Router(store, bot, limiter=MessageLimiter(max_chars=10, per_minute=2))
    [too_long] = run(router.handle_user_message("s1", "长" * 11))
    assert "最多10个字" in too_long["text"]
    run(router.handle_user_message("s1", "一"))
    run(router.handle_user_message("s1", "二"))
    [too_fast] = run(router.handle_user_message("s1", "三"))
    assert too_fast["text"] == NOTICE_TOO_FAST
    assert [m["text"] for m in router.history("s1") if m["role"] == "user"] == ["一", "二"]
    assert run(router.handle_user_message("s2", "别人")) [0]["role"] == "bot"  # limits are per sender
    assert run(router.handle_user_message("s3", "   "))[0]["transient"]


def test_rate_limit_window_slides() -> None:
    now = [0.0]
    limiter = MessageLimiter(max_chars=100, per_minute=1, clock=lambda: now[0])
    assert limiter.check("a", "x") is None
    assert limiter.check("a", "x") == NOTICE_TOO_FAST
    now[0] = 60.0
    assert limiter.check("a", "x") is None


def test_messages_of_one_sender_are_answered_in_order(store: ConversationStore) -> None:
    class SlowFirstBot(ScriptedBot):
        async def send(self, sender: str, text: str, metadata: dict) -> list[dict]:
            await asyncio.sleep(0.05 if text == "一" else 0)
            return [{"text": f"回：{text}"}]

    router = Router(store, SlowFirstBot())

    async def both() -> None:
        await asyncio.gather(router.handle_user_message("s1", "一"), router.handle_user_message("s1", "二"))

    run(both())
    assert [m["text"] for m in router.history("s1")] == ["一", "回：一", "二", "回：二"]


def test_a_long_spoken_turn_is_cut_to_what_the_bot_takes_a_long_typed_one_is_refused(router: Router,
                                                                                     bot: ScriptedBot) -> None:
    spoken = "园区停电了" * 200  # 1000 characters: two minutes of speech without a pause
    replies = run(router.handle_user_message("call-long", spoken, channel="voice", metadata={"phone": "13812345678"}))
    assert replies[0]["role"] == "bot" and bot.asked[-1][1] == spoken[:499] + "…"
    assert router.history("call-long")[0]["text"] == spoken  # the transcript an operator reads keeps every word
    typed = run(router.handle_user_message("web-long", spoken, channel="web"))
    assert typed[0]["transient"] and "500" in typed[0]["text"]


def test_a_ticket_rating_comment_is_cleaned_like_any_typed_text(store: ConversationStore, bot: ScriptedBot) -> None:
    tickets = FakeTickets(resolved={"20261127001"})
    router = Router(store, bot, tickets=tickets)
    run(router.handle_user_message("s1", "帮我登记"))  # the bot files ticket 20261127001
    run(router.rate_ticket("s1", "20261127001", 4, "还行\ud83d\x00"))  # half an emoji cut by maxlength, a NUL
    assert tickets.ratings == [("20261127001", 4, "还行")]
