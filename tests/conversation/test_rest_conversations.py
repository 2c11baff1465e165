"""Whole conversations through the REST channel against running servers (issue API, action server,
Rasa server with the trained model): what a caller types, what the bot answers, what gets filed."""
import re
import time
import uuid

import pytest
import requests

from tests.support.stack import RASA_API_TOKEN

API = {"token": RASA_API_TOKEN}  # Rasa's HTTP API is never open without a token


pytestmark = pytest.mark.slow

def _sender() -> str:
    return f"rest-{uuid.uuid4().hex[:12]}"


def _ticket_id(said) -> str:
    """The ticket a turn filed, as a channel learns it: from the contract's ticket payload; the
    reply reads the same number out in groups of four."""
    [note] = [t for t in said.tickets if t["action"] == "filed"] or [None]
    assert note, said
    assert _grouped(note["id"]) in said
    return note["id"]


def _grouped(ticket_id: str) -> str:
    """A ticket number the way the bot reads it out and shows it: groups of four."""
    return " ".join(ticket_id[i:i + 4] for i in range(0, len(ticket_id), 4))


def _say_all(hotline, sender: str, lines, **metadata):  # type: ignore[no-untyped-def]
    """Say `lines` one after another in one conversation; the bot's reply to the last."""
    for line in lines:
        reply = hotline.said(sender, line, **metadata)
    return reply


def test_the_rest_channel_refuses_malformed_bodies_with_a_structured_error(hotline):
    url = f"{hotline.rasa_url}/webhooks/rest/webhook"
    for body in (b"not json", b"[]", b'{"message": "hi"}', b'{"sender": "x", "message": 5}',
                 b'{"sender": "x", "message": "hi", "metadata": "voice"}'):
        response = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"].endswith("_invalid")


def test_metadata_reaches_the_tracker(hotline):
    sender = _sender()
    hotline.say(sender, "你好", phone="13891234567", channel="voice")
    tracker = requests.get(f"{hotline.rasa_url}/conversations/{sender}/tracker", params=API, timeout=10).json()
    user = [e for e in tracker["events"] if e["event"] == "user"][-1]
    assert user["metadata"]["phone"] == "13891234567" and user["metadata"]["channel"] == "voice"
    assert tracker["slots"]["caller_phone"] == "13891234567"


def test_a_caller_files_a_report_with_caller_id_confirmed(hotline):
    sender, meta = _sender(), {"phone": "13891230001", "channel": "voice"}
    assert "96767" in hotline.said(sender, "喂 你好", **meta)
    assert "单位" in hotline.said(sender, "我们园区门口的路灯坏了好几天了 晚上特别黑", **meta)
    assert "称呼" in hotline.said(sender, "西安华清智能科技有限公司", **meta)
    assert "138 9123 0001" in hotline.said(sender, "我叫张伟", **meta)
    readback = hotline.said(sender, "对 就用这个号", **meta)
    assert "西安华清智能科技有限公司" in readback and "张伟" in readback and "市政设施" in readback
    filed = hotline.said(sender, "对的 提交吧", **meta)
    ticket_id = _ticket_id(filed)
    assert "日前" in filed
    assert "我再重复一遍" in filed  # the phone's variation of the reply (channel: voice in domain.yml)
    assert filed.count("查询码") == 1  # said once at filing; "再说一遍" repeats it on request
    assert filed.tickets == [{"id": ticket_id, "action": "filed"}]
    ticket = hotline.operator("GET", f"/tickets/{ticket_id}")
    assert ticket["phone"] == "13891230001" and ticket["channel"] == "voice"
    assert ticket["conversation_id"] == sender and ticket["category"] == "市政设施"
    assert "路灯" in ticket["description"]


def test_a_whole_report_in_one_breath_is_filed_with_everything_said(hotline):
    sender = _sender()
    said = "你好 我是西安华清科技有限公司的李明 电话13912340077 厂区门口的下水道堵了 味道很大"
    first = hotline.said(sender, said, channel="web")
    assert "请问您要办什么事" not in first  # not taken for a stray detail
    readback = first if "核对" in first else hotline.said(sender, "李明")
    assert "核对" in readback and "139 1234 0077" in readback and "西安华清科技有限公司" in readback
    ticket = hotline.operator("GET", f"/tickets/{_ticket_id(hotline.said(sender, '对'))}")
    assert (ticket["company"], ticket["phone"]) == ("西安华清科技有限公司", "13912340077")
    assert "下水道堵了" in ticket["description"] and ticket["category"] == "市政设施"


def test_a_no_with_what_the_caller_wants_is_no_goodbye(hotline):
    sender = _sender()
    hotline.said(sender, "你好")
    answer = hotline.said(sender, "不是，我是要反映问题")
    assert "再见" not in answer and ("具体" in answer or "什么问题" in answer or "办什么事" in answer)
    assert "再见" in hotline.said(_sender(), "不用了")  # a plain no: the caller is done


def test_corrections_and_a_faq_question_in_the_middle_of_filing(hotline):
    sender = _sender()
    hotline.said(sender, "我要投诉 隔壁工地晚上十二点还在打桩")
    faq = hotline.said(sender, "对了 你们政务大厅几点上班")
    assert "9点" in faq and "单位" in faq  # answered, then the form asks its question again
    hotline.said(sender, "陕西秦川软件有限公司")
    corrected = hotline.said(sender, "不对，公司名是西安新智源科技")
    assert "西安新智源科技" in corrected and "称呼" in corrected
    assert "电话" in hotline.said(sender, "王秀兰")
    readback = hotline.said(sender, "13991234560")
    assert "139 9123 4560" in readback
    assert "哪一项" in hotline.said(sender, "不对")
    again = hotline.said(sender, "电话是13991234561")
    assert "139 9123 4561" in again and "核对" in again
    filed = hotline.said(sender, "对", channel="web")
    assert "我再重复一遍" not in filed  # read in the chat: said once
    ticket = hotline.operator("GET", f"/tickets/{_ticket_id(filed)}")
    assert ticket["company"] == "西安新智源科技" and ticket["phone"] == "13991234561"
    assert ticket["kind"] == "complaint" and ticket["category"] == "环境噪音"


def test_a_caller_checking_the_line_in_the_middle_of_filing_hears_the_question_again(hotline):
    sender, voice = _sender(), {"channel": "voice", "phone": "13991234562"}
    assert "96767" in hotline.said(sender, "喂 你好", **voice)  # the introduction, once
    again = hotline.said(sender, "喂喂 听得见吗", **voice)
    assert "听得到" in again and "96767" not in again
    hotline.said(sender, "我要反映个问题", **voice)
    checked = hotline.said(sender, "喂 听得到吗", **voice)
    assert "听得到" in checked and "什么问题" in checked  # the description is still to come
    hotline.said(sender, "我们园区门口的路灯坏了好几天了", **voice)
    hotline.said(sender, "西安华清智能科技有限公司", **voice)
    assert "听得到" in hotline.said(sender, "喂？", **voice)
    which = hotline.said(sender, "你好 请问这边是96767热线吗", **voice)
    assert "这里是96767企业服务热线" in which and "称呼" in which  # told, then asked for the name again
    hotline.said(sender, "王秀兰", **voice)
    readback = hotline.said(sender, "对", **voice)  # the caller id is the number to call back
    assert "核对" in readback and "路灯坏了" in readback and "听得" not in readback
    assert hotline.said(sender, "对", **voice).tickets


def test_a_web_user_asking_whether_anyone_is_there_during_a_look_up_is_asked_again(hotline):
    sender = _sender()
    asked = hotline.said(sender, "帮我查一下工单进度", channel="web")
    again = hotline.said(sender, "在吗", channel="web")
    assert again.startswith("在的") and asked.splitlines()[-1] in again


def test_a_consultation_registered_after_a_faq_answer_carries_the_question(hotline):
    sender, voice = _sender(), {"channel": "voice", "phone": "13991234563"}
    assert "登记咨询" in hotline.said(sender, "高新技术企业认定需要什么条件", **voice)
    assert "想了解" in hotline.said(sender, "登记咨询", **voice)
    situation = "我们是做软件的 想今年申报 不知道研发费用怎么算"
    asked = hotline.said(sender, situation, **voice)
    assert "单位" in asked and "集中申报" not in asked  # the question is the consultation, not the FAQ's again
    hotline.said(sender, "西安华清智能科技有限公司", **voice)
    hotline.said(sender, "王秀兰", **voice)
    assert "核对" in hotline.said(sender, "对", **voice)
    filed = hotline.said(sender, "对", **voice)
    ticket = hotline.operator("GET", f"/tickets/{filed.tickets[0]['id']}")
    assert ticket["kind"] == "consult" and ticket["description"].startswith("高新技术企业认定需要什么条件；")
    assert "研发费用" in ticket["description"]


def test_follow_up_by_caller_id_check_urge_supplement_and_withdraw(hotline):
    phone = "13891230002"
    filer = _sender()
    reply = _say_all(hotline, filer, ("园区停电一上午了到现在还没来电", "西安鼎新电子有限公司", "刘建国", "对", "对"), phone=phone)
    ticket_id = _ticket_id(reply)
    grouped = _grouped(ticket_id)

    caller = _sender()  # a later call from the same phone
    assert grouped in hotline.said(caller, "我想查一下我之前反映的问题", phone=phone)
    assert "是这一件吗" in hotline.said(caller, "帮我催一下", phone=phone)
    assert "催办" in hotline.said(caller, "是的", phone=phone)
    assert "补充的内容" in hotline.said(caller, f"我要给工单{ticket_id}补充点情况", phone=phone)
    assert "已经把您补充的内容" in hotline.said(caller, "三号楼的配电房冒过烟", phone=phone)
    assert "确认要撤销" in hotline.said(caller, f"问题已经解决了 把{ticket_id}撤了吧", phone=phone)
    assert "已经撤销" in hotline.said(caller, "对", phone=phone)
    ticket = hotline.operator("GET", f"/tickets/{ticket_id}")
    assert ticket["status"] == "cancelled"
    assert {"urged", "supplemented"} <= {event["action"] for event in ticket["history"]}


def _resolved(hotline, sender: str, report, department: str, result: str) -> str:  # type: ignore[no-untyped-def]
    """A ticket filed in this conversation from the lines of `report`, then assigned and resolved."""
    ticket_id = _ticket_id(_say_all(hotline, sender, report))
    hotline.operator("POST", f"/tickets/{ticket_id}/assign", json={"department": department})
    hotline.operator("POST", f"/tickets/{ticket_id}/resolve", json={"result": result})
    return ticket_id


def test_rating_a_resolved_ticket(hotline):
    sender = _sender()
    ticket_id = _resolved(hotline, sender, ("我们楼的电梯老出故障 物业一直拖着不修", "西安银河光电股份有限公司", "黄磊",
                                            "13891230003", "对"), "物业监管科", "电梯已维修")
    assert "满意" in hotline.said(sender, "我想对办结的工单评价一下")
    assert "感谢您的评价" in hotline.said(sender, "非常满意")
    assert hotline.operator("GET", f"/tickets/{ticket_id}")["status"] == "closed"


def test_a_caller_told_the_problem_was_solved_when_it_was_not_sends_the_ticket_back(hotline):
    sender = _sender()
    ticket_id = _resolved(hotline, sender, ("园区北门的路灯晚上不亮", "西安北辰照明科技有限公司", "周琳", "13891230013", "对"),
                          "城市管理和综合执法局", "路灯已维修")
    assert "满意" in hotline.said(sender, "说是已经处理好了，可是路灯晚上还是不亮")
    assert "重新办理" in hotline.said(sender, "不满意")
    hotline.said(sender, "对")
    ticket = hotline.operator("GET", f"/tickets/{ticket_id}")
    assert ticket["status"] != "closed" and ticket["rating"]["score"] == 2
    assert "路灯晚上还是不亮" in ticket["rating"]["comment"]  # the department reads what is still wrong


def test_supply_demand_and_intermediary_requests_are_recorded(hotline):
    sender = _sender()
    assert "单位" in hotline.said(sender, "我们有一批闲置的数控机床想找买家")
    _say_all(hotline, sender, ("西安未来城市科技有限公司", "吴静", "13891230004"))
    ticket = hotline.operator("GET", f"/tickets/{_ticket_id(hotline.said(sender, '对'))}")
    assert ticket["description"].startswith("【供需发布】") and ticket["category"] == "其他"

    asked = hotline.said(sender, "我们公司要做年度审计 想在中介超市找家会计师事务所")
    assert "核对" in asked and "中介超市" in asked  # company, name and phone are remembered
    ticket = hotline.operator("GET", f"/tickets/{_ticket_id(hotline.said(sender, '对'))}")
    assert ticket["description"].startswith("【中介超市】")


def _handoff(messages):
    found = [m["custom"]["handoff"] for m in messages if (m.get("custom") or {}).get("handoff")]
    assert len(found) == 1, messages
    return found[0]


def test_handoff_on_request_when_angry_and_after_two_misunderstandings(hotline):
    sender = _sender()
    hotline.said(sender, "我们的天然气一直通不上", phone="13891230005")
    handoff = _handoff(hotline.say(sender, "说不清楚 帮我转人工吧", phone="13891230005"))
    assert handoff["reason"] == "caller_request" and "天然气" in handoff["summary"]
    assert "138****0005" in handoff["summary"] and handoff["ticket_id"] is None

    assert _handoff(hotline.say(_sender(), "什么破机器 气死我了 给我找人"))["reason"] == "angry"
    angry_report = hotline.say(_sender(), "你们到底管不管 路灯坏了半个月了 气死我了")
    assert _handoff(angry_report)["reason"] == "angry"

    confused = _sender()
    first = hotline.say(confused, "asdfgh")
    assert "没太听明白" in first[0]["text"] and not any(m.get("custom") for m in first)
    assert _handoff(hotline.say(confused, "zxcvb qwer"))["reason"] == "not_understood"


def test_robot_question_and_out_of_scope_get_a_way_forward(hotline):
    sender = _sender()
    assert "转人工" in hotline.said(sender, "你是机器人吗")
    assert "受理范围" in hotline.said(sender, "帮我订一张去上海的火车票")


def test_issue_api_down_mid_conversation_then_delivered_once(hotline):
    sender, phone = _sender(), "13891230006"
    _say_all(hotline, sender, ("公司门口的路面塌了一个大坑很危险", "西安天和生物有限公司", "马晓东", phone))
    hotline.api.kill()
    try:
        reply = hotline.said(sender, "对")
        assert "完整记录" in reply and "尾号0006" in reply
        # Asked about it while the API is still down: it is waiting, no number yet (and no crash).
        assert "还没有生成工单编号" in hotline.said(sender, "查一下我刚才反映的问题")
        # A second report in the same outage (the company, name and phone are known by now).
        assert "核对" in hotline.said(sender, "我还要反映一个问题 园区北门的路灯也不亮了")
        assert "完整记录" in hotline.said(sender, "对")
    finally:
        hotline.restart_api()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not hotline.operator("GET", "/tickets", params={"phone": phone})["items"]:
        time.sleep(0.5)
    time.sleep(2)
    items = hotline.operator("GET", "/tickets", params={"phone": phone})["items"]
    assert len(items) == 2 and {"路面塌了", "路灯"} == {("路面塌了" if "路面塌了" in i["description"] else "路灯")
                                                    for i in items}
    # The caller can now find them by phone, and the chat that made the reports (no caller id) in itself,
    # hearing each number with its query code (neither was said while the API was down).
    assert items[0]["id"][:4] in hotline.said(_sender(), "查一下我的工单", phone=phone)
    told = hotline.said(sender, "查一下我的工单")
    for item in items:
        grouped = _grouped(item["id"])
        assert grouped in told
    assert told.count("查询码是") == 2


def test_a_different_request_in_the_middle_of_filing_is_not_taken_as_an_answer(hotline):
    phone = "13891230007"
    filer = _sender()
    reply = _say_all(hotline, filer, ("园区路灯晚上一半都不亮", "西安辰光智能科技有限公司", "冯涛", "对", "对"), phone=phone)
    ticket_id = _ticket_id(reply)
    grouped = _grouped(ticket_id)

    caller = _sender()  # a later call: starts a new report, then asks about the filed one
    assert "单位" in hotline.said(caller, "我们公司附近的移动信号特别差", phone=phone)
    switched = hotline.said(caller, f"等一下 先帮我查一下工单{ticket_id}", phone=phone)
    assert "还没有提交" in switched and "继续登记" in switched and grouped in switched
    slots = requests.get(f"{hotline.rasa_url}/conversations/{caller}/tracker", params=API, timeout=10).json()["slots"]
    assert slots["company"] is None and slots["description"] is None

    # Looked up, the report left half-way is picked up again where it was.
    assert "单位" in hotline.said(caller, "好了 继续刚才的登记", phone=phone)
    assert "核对" in _say_all(hotline, caller, ("西安辰光智能科技有限公司", "冯涛", "对"), phone=phone)
    resumed = _ticket_id(hotline.said(caller, "对", phone=phone))
    assert "移动信号" in hotline.operator("GET", f"/tickets/{resumed}")["description"]

    assert "单位" in hotline.said(caller, "园区的污水管道破了 水都流到马路上了", phone=phone)
    assert "不登记了" in hotline.said(caller, "算了 不报了", phone=phone)

    assert "单位" in hotline.said(caller, "楼下的垃圾好几天没人清理了", phone=phone)
    ended = hotline.said(caller, "先这样吧 我挂了 再见", phone=phone)
    assert "不登记了" in ended and "再见" in ended

    items = hotline.operator("GET", "/tickets", params={"phone": phone})["items"]
    assert [item["id"] for item in items] == [resumed, ticket_id]  # only the reports that were confirmed


def test_a_web_user_asked_for_a_number_can_go_back_to_the_report_left_half_way(hotline):
    chat = _sender()
    web = {"channel": "web"}
    assert "单位" in hotline.said(chat, "我们园区东门的路灯坏了一排", **web)
    assert "请告诉我" in hotline.said(chat, "等一下 先帮我查一下工单2611270003", **web)  # its number or code
    back = hotline.said(chat, "算了，继续刚才的登记", **web)
    assert "接着登记" in back and "单位" in back
    assert "核对" in _say_all(hotline, chat, ("西安辰光智能科技有限公司", "冯涛", "13891230019"), **web)
    filed = _ticket_id(hotline.said(chat, "对", **web))
    assert "路灯" in hotline.operator("GET", f"/tickets/{filed}")["description"]


def test_a_caller_asked_for_a_query_code_or_a_number_is_never_stuck(hotline):
    phone = "13891230011"
    filer = _sender()
    reply = _say_all(hotline, filer, ("园区东门的消防栓漏水好几天了", "西安启明星电子有限公司", "孙丽", "对", "对"), phone=phone)
    ticket_id = _ticket_id(reply)

    web = _sender()  # a chat without caller id: the query code is asked for
    assert "查询码" in hotline.said(web, f"查一下工单{ticket_id}")
    waiting = hotline.said(web, "稍等我找一下")
    assert "查询码" in waiting and waiting.count("抱歉") <= 1  # one polite answer, not ten
    assert "查询码" in hotline.said(web, "我要催办")  # another operation: the same ticket, still the code
    human = hotline.say(web, "转人工")
    assert any(isinstance(m.get("custom"), dict) and "handoff" in m["custom"] for m in human)
    assert hotline.said(web, "你好").strip()  # the conversation goes on answering

    for way_out, expected in (("算了", "先不查"), ("没有编号", "先不查"), ("再见", "再见")):
        sender = _sender()
        assert "工单编号" in hotline.said(sender, "查一下工单进度")
        assert expected in hotline.said(sender, way_out), way_out
        assert hotline.said(sender, "你好").strip()

    switching = _sender()
    assert "工单编号" in hotline.said(switching, "查一下工单进度")
    assert "单位" in hotline.said(switching, "我不查了，我要反映个问题：园区的路灯坏了")  # the filing starts

    leaving = _sender()  # named a ticket, gave no code, hung up: the unproved ticket is not kept
    assert "查询码" in hotline.said(leaving, f"查一下工单{ticket_id}")
    assert "再见" in hotline.said(leaving, "那先这样吧 再见")
    slots = requests.get(f"{hotline.rasa_url}/conversations/{leaving}/tracker", params=API, timeout=10).json()["slots"]
    assert slots["ticket_id"] is None and slots["followup_op"] is None and slots["requested_slot"] is None


def test_the_description_can_be_corrected_at_any_question_and_at_the_read_back(hotline):
    sender = _sender()
    assert "单位" in hotline.said(sender, "我要反映问题，园区的电梯经常坏")
    corrected = hotline.said(sender, "不对，是空调坏了不是电梯")
    assert "问题描述改为" in corrected and "空调坏了" in corrected and "单位" in corrected  # not a company name
    assert "称呼" in hotline.said(sender, "华山科技有限公司")
    assert "电话" in hotline.said(sender, "刘洋")
    assert "核对" in hotline.said(sender, "13891230012")
    readback = hotline.said(sender, "问题改一下，是园区办公楼的中央空调坏了")
    assert "问题描述改为：园区办公楼的中央空调坏了" in readback and "核对" in readback
    ticket = hotline.operator("GET", f"/tickets/{_ticket_id(hotline.said(sender, '对'))}")
    assert ticket["description"] == "园区办公楼的中央空调坏了"
    assert ticket["company"] == "华山科技有限公司" and ticket["contact_name"] == "刘洋"


def test_a_report_too_long_to_keep_is_asked_for_in_short_not_refused_after_the_read_back(hotline):
    sender = _sender()
    assert "两千字以内" in hotline.said(sender, "我要反映问题，" + "园区门口的路灯坏了" * 300)
    assert "单位" in hotline.said(sender, "园区门口的路灯坏了三天了")


def test_a_caller_can_leave_every_follow_up_question_and_nothing_is_written(hotline):
    phone = "13891230013"
    filer = _sender()
    reply = _say_all(hotline, filer, ("园区西门的井盖丢了很危险", "西安启明星电子有限公司", "周琳", "对", "对"), phone=phone)
    ticket_id = _ticket_id(reply)
    meta = {"phone": phone, "channel": "voice"}

    caller = _sender()
    assert "补充的内容" in hotline.said(caller, f"我要补充工单{ticket_id}的信息", **meta)
    assert "智能客服" in hotline.said(caller, "你是机器人吗", **meta)  # answered, then asked again
    assert "先不办了" in hotline.said(caller, "算了不补充了", **meta)
    assert "补充的内容" in hotline.said(caller, f"我要给工单{ticket_id}补充点情况", **meta)
    assert "再见" in hotline.said(caller, "再见", **meta)
    history = hotline.operator("GET", f"/tickets/{ticket_id}")["history"]
    assert "supplemented" not in {event["action"] for event in history}

    canceller = _sender()
    assert "确认要撤销" in hotline.said(canceller, f"撤销工单{ticket_id}", **meta)
    assert "不撤销" in hotline.said(canceller, "我再想想", **meta)
    assert "办结后才能评价" in hotline.said(_sender(), f"我要评价一下工单{ticket_id}", **meta)  # said at once
    hotline.operator("POST", f"/tickets/{ticket_id}/assign", json={"department": "市政公用服务中心"})
    hotline.operator("POST", f"/tickets/{ticket_id}/resolve", json={"result": "已补装井盖"})
    rater = _sender()
    assert "满意" in hotline.said(rater, f"我要评价一下工单{ticket_id}", **meta)
    assert "先不办了" in hotline.said(rater, "算了", **meta)
    assert hotline.operator("GET", f"/tickets/{ticket_id}")["status"] == "resolved"  # neither withdrawn nor rated


def test_a_ticket_number_typed_as_the_bot_shows_it_or_with_its_code_goes_straight_to_the_ticket(hotline):
    filer = _sender()
    reply = _say_all(hotline, filer, ("园区南门的污水井冒水了", "西安启明星电子有限公司", "吴刚", "13891230014", "对"))
    ticket_id = _ticket_id(reply)
    code = re.search(r"查询码 (\d{4,8})", reply).group(1)
    grouped = _grouped(ticket_id)

    typed = _sender()  # the number as the bot shows it, with spaces, no verb the NLU knows
    assert "查询码" in hotline.said(typed, grouped)
    at_once = _sender()  # the number and its code in one breath: no question, the status
    status = hotline.said(at_once, f"查工单{ticket_id} 查询码{code}")
    assert grouped in status and "查询码" not in status.replace(f"查询码{code}", "")
    switching = _sender()  # asked for a code, the caller names another ticket instead
    assert "查询码" in hotline.said(switching, f"查一下工单{ticket_id}")
    assert "没有查到" in hotline.said(switching, "那工单2612019999呢")  # looked up, not "没听清查询码"


def test_every_field_can_be_changed_at_the_read_back_and_nothing_is_ignored_silently(hotline):
    sender = _sender()
    _say_all(hotline, sender, ("园区门口的路灯坏了好几天了", "西安启明星电子有限公司", "郑浩"))
    assert "核对" in hotline.said(sender, "13891230015")
    assert "问题类别改为安全消防" in hotline.said(sender, "类别改成安全消防")
    assert "地点改为高新三路" in hotline.said(sender, "地点改成高新三路")
    assert "联系人改为李娜" in hotline.said(sender, "名字写错了，是李娜")
    assert "139 1234 0015" in hotline.said(sender, "13912340015")  # a bare number is the phone
    assert "哪一项" in hotline.said(sender, "好像有点不太对吧")  # not understood: asked, not read again
    ticket = hotline.operator("GET", f"/tickets/{_ticket_id(hotline.said(sender, '对'))}")
    assert (ticket["category"], ticket["location"], ticket["contact_name"], ticket["phone"]) == (
        "安全消防", "高新三路", "李娜", "13912340015")


def test_a_caller_who_would_rather_not_give_a_name_is_filed_as_anonymous(hotline):
    sender = _sender()
    meta = {"phone": "13891230017", "channel": "voice"}
    _say_all(hotline, sender, ("园区北门的路灯坏了一个星期了", "西安启明星电子有限公司"), **meta)
    declined = hotline.said(sender, "这个不方便透露", **meta)
    assert "匿名" in declined and "电话" in declined  # on to the phone number, not out of the form
    reply = _say_all(hotline, sender, ("对", "对"), **meta)
    ticket_id = _ticket_id(reply)
    assert hotline.operator("GET", f"/tickets/{ticket_id}")["contact_name"] == "匿名"


def test_a_caller_who_will_not_leave_a_phone_is_told_why_then_let_go_and_nothing_is_filed(hotline):
    sender = _sender()
    _say_all(hotline, sender, ("园区北门的路灯坏了一个星期了", "西安启明星电子有限公司", "郑浩"))
    assert "只用于承办部门联系您" in hotline.said(sender, "不方便留电话")
    stopped = hotline.said(sender, "我不留")
    assert "先不登记了" in stopped and "转人工" in stopped
    after = hotline.said(sender, "好的")
    assert "核对" not in after and "登记好了" not in after and "电话" not in after  # the form is over, nothing filed


def test_a_phone_and_a_name_said_before_the_report_are_not_asked_for_again(hotline):
    sender = _sender()
    assert "记下了" in hotline.said(sender, "13605781234")
    assert "记下了" in hotline.said(sender, "我叫钱多多")
    asked = hotline.said(sender, "我们园区从前天开始一直停电，生产线都停了")
    assert "单位" in asked or "公司" in asked
    readback = hotline.said(sender, "西安启明星电子有限公司")
    assert "核对" in readback and "钱多多" in readback and "136 0578 1234" in readback


def test_a_caller_who_missed_the_ticket_number_hears_the_filing_again(hotline):
    sender, meta = _sender(), {"phone": "13891230077", "channel": "voice"}
    hotline.said(sender, "我们园区门口的路灯坏了好几天了 晚上特别黑", **meta)
    # Asked again in the middle of the form: the same question, once, and the form goes on.
    again = hotline.said(sender, "你刚才说什么", **meta)
    assert "再问一遍" in again and "单位" in again
    assert "称呼" in hotline.said(sender, "西安华清智能科技有限公司", **meta)
    hotline.said(sender, "我叫张伟", **meta)
    hotline.said(sender, "对 就用这个号", **meta)
    filed = hotline.said(sender, "对的 提交吧", **meta)
    ticket_id = _ticket_id(filed)
    # After the filing the whole turn is said again, the ticket number and code with it, and asking
    # a second time gives the same words, not "我再说一遍" about "我再说一遍".
    for _ in range(2):
        repeated = hotline.said(sender, "没听清 再说一遍", **meta)
        assert "再说一遍" in repeated and _grouped(ticket_id) in repeated and "查询码" in repeated
        assert repeated.tickets == []  # the ticket was filed once; saying it again files nothing
    assert len(hotline.operator("GET", "/tickets", params={"phone": "13891230077"})["items"]) == 1
    # Another conversation asking "what did you say?" hears nothing of this one: no ticket, no code.
    stranger = hotline.said(_sender(), "你刚才说什么 再说一遍", phone="13991230088", channel="voice")
    assert ticket_id[-4:] not in stranger and "查询码" not in stranger and stranger.tickets == []
    assert "请问您要办什么事" in stranger


def test_a_fire_is_told_to_call_119_first_and_the_report_is_still_taken(hotline):
    sender, meta = _sender(), {"phone": "13891230077", "channel": "voice"}
    first = hotline.said(sender, "着火了 我们隔壁仓库着火了 烟好大 怎么办", **meta)
    assert "119" in first and "撤离" in first
    assert "哪一类" in first or "单位" in first  # the form goes on after the advice


def test_a_question_about_high_tech_enterprise_recognition_is_answered_not_filed(hotline):
    sender = _sender()
    answer = hotline.said(sender, "我想咨询一下 我们公司想申请高新技术企业认定 需要什么条件 找哪个部门", channel="web")
    assert "高新技术企业认定" in answer and "科技人员" in answer
    assert not answer.tickets


def test_after_a_hand_back_the_bot_knows_the_ticket_the_operator_filed_and_what_they_said(hotline):
    sender = _sender()
    hotline.said(sender, "转人工", channel="web")
    filed = hotline.operator("POST", "/tickets", json={
        "company": "西安华清智能科技有限公司", "contact_name": "赵敏", "phone": "13891230021", "category": "供水供电供气",
        "description": "厂区停电两天了", "channel": "operator", "conversation_id": sender})
    told = "已经为您登记了停电的问题，工单编号会在稍后告知"
    url = f"{hotline.rasa_url}/webhooks/rest/operator_turns"
    recorded = requests.post(url, json={"sender": sender, "texts": [told], "ticket_id": filed["id"]}, timeout=10)
    assert recorded.json() == {"recorded": 1}
    tracker = requests.get(f"{hotline.rasa_url}/conversations/{sender}/tracker", params=API, timeout=10).json()
    last = [e for e in tracker["events"] if e["event"] == "bot"][-1]
    assert last["text"] == told and last["metadata"]["operator"] is True
    checked = hotline.said(sender, "那个工单现在进度怎么样", channel="web")
    assert checked.tickets == [{"id": filed["id"], "action": "checked"}]  # no number asked, proof by this chat
    assert "受理" in checked or "派" in checked or "办理" in checked


def test_operator_turns_take_only_their_own_shape(hotline):
    url = f"{hotline.rasa_url}/webhooks/rest/operator_turns"
    for body, code in (({"texts": ["好的"]}, "sender_invalid"), ({"sender": "x", "texts": "好的"}, "texts_invalid"),
                       ({"sender": "x", "texts": ["长" * 2001]}, "texts_invalid"),
                       ({"sender": "x", "texts": [], "ticket_id": "12ab"}, "ticket_id_invalid"),
                       ({"sender": "x", "texts": [], "ticket_id": "١٢٣٤٥٦٧٨"}, "ticket_id_invalid"), ([], "body_invalid")):
        refused = requests.post(url, json=body, timeout=10)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == code, body
