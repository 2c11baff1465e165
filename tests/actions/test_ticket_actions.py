"""The filing and follow-up actions on a live action server backed by a live issue API."""
import uuid

import requests

from actions.replies import ticket_number
from tests.actions.webhook import payloads, responses, run_action, slot_events, texts, user_event

FORM_SLOTS = {
    "company": "西安华清智能科技有限公司", "contact_name": "张伟", "phone": "13700001111",
    "category": "市政设施", "kind": "help", "description": "园区门口的路灯坏了好几天了",
    "ticket_confirmed": True, "request_type": "problem", "channel": "voice",
}


def _operator(issue_api):
    return {"Authorization": f"Bearer {issue_api.tokens['operator']}"}


def _file(action_server, sender, **slots):
    return run_action(action_server.url, "action_submit_ticket", text="对", intent="affirm",
                      slots={**FORM_SLOTS, **slots}, sender=sender)


def test_opening_report_fills_description_category_kind_and_offers_caller_id(action_server):
    result = run_action(action_server.url, "validate_ticket_form",
                        text="喂 我要投诉 隔壁工地晚上十二点还在打桩", intent="report_problem",
                        metadata={"phone": "13891234567", "channel": "voice"})
    slots = slot_events(result)
    assert slots["description"] == "我要投诉 隔壁工地晚上十二点还在打桩"
    assert slots["category"] == "环境噪音"
    assert slots["kind"] == "complaint"
    assert slots["phone_offer"] == "13891234567"
    assert slots["requested_slot"] == "company"


def test_a_description_too_long_to_keep_is_asked_for_again_in_short(action_server):
    rambling = "园区门口的路灯坏了" * 300  # 2700 characters: more than the issue API keeps
    opening = slot_events(run_action(action_server.url, "validate_ticket_form", text=rambling,
                                     intent="report_problem"))
    assert opening["description"] is None and opening["description_hint"] == "too_long"
    assert opening["requested_slot"] == "description"
    answer = slot_events(run_action(action_server.url, "validate_ticket_form", text=rambling,
                                    slots={"requested_slot": "description", "request_type": "problem"}))
    assert answer["description"] is None and answer["description_hint"] == "too_long"
    short = slot_events(run_action(action_server.url, "validate_ticket_form", text="园区门口的路灯坏了三天",
                                   slots={"requested_slot": "description", "request_type": "problem"}))
    assert short["description"] == "园区门口的路灯坏了三天"


def test_vague_opening_asks_for_the_details(action_server):
    result = run_action(action_server.url, "validate_ticket_form", text="我要反映个问题",
                        intent="report_problem")
    assert slot_events(result)["requested_slot"] == "description"


def test_caller_confirms_the_offered_number_or_corrects_it(action_server):
    slots = {**FORM_SLOTS, "phone": None, "ticket_confirmed": None, "phone_offer": "13891234567",
             "requested_slot": "phone"}
    yes = run_action(action_server.url, "validate_ticket_form", text="对 就用这个", intent="affirm",
                     slots=slots)
    assert slot_events(yes)["phone"] == "13891234567"
    assert slot_events(yes)["requested_slot"] == "ticket_confirmed"

    fixed = run_action(action_server.url, "validate_ticket_form", text="不对，电话是13991234560",
                       intent="inform", slots={**FORM_SLOTS, "requested_slot": "ticket_confirmed",
                                               "ticket_confirmed": None})
    assert slot_events(fixed)["phone"] == "13991234560"
    assert "139 9123 4560" in texts(fixed)
    assert slot_events(fixed)["requested_slot"] == "ticket_confirmed"


def test_read_back_names_every_field(action_server):
    result = run_action(action_server.url, "action_ask_ticket_confirmed", text="张伟",
                        slots={**FORM_SLOTS, "ticket_confirmed": None})
    said = texts(result)
    for part in ("西安华清智能科技有限公司", "张伟", "137 0000 1111", "市政设施", "路灯"):
        assert part in said


def test_filing_reads_the_number_grouped_with_the_deadline(action_server, issue_api):
    sender = f"conv-{uuid.uuid4()}"
    result = _file(action_server, sender)
    ticket_id = slot_events(result)["last_ticket_id"]
    grouped = " ".join(ticket_id[i:i + 4] for i in range(0, len(ticket_id), 4))
    said = texts(result)
    assert grouped in said and "月" in said and "日前" in said
    code = slot_events(result)["ticket_codes"][ticket_id]
    assert f"查询码 {code}" in said and len(code) == 6  # said once, with the number
    assert payloads(result, "ticket") == [{"id": ticket_id, "action": "filed"}]
    ticket = requests.get(f"{issue_api.url}/api/v1/tickets/{ticket_id}", headers=_operator(issue_api),
                          timeout=5).json()
    assert ticket["phone"] == "13700001111"
    assert ticket["conversation_id"] == sender
    assert ticket["category"] == "市政设施"


def test_repeating_the_filing_action_files_nothing_new(action_server, issue_api):
    sender = f"conv-{uuid.uuid4()}"
    confirming = user_event("对", "affirm")
    results = [run_action(action_server.url, "action_submit_ticket", latest=confirming, sender=sender,
                          slots={**FORM_SLOTS, "phone": "13700002222"}) for _ in range(2)]
    ticket_id = slot_events(results[0])["last_ticket_id"]
    assert slot_events(results[1])["last_ticket_id"] == ticket_id
    assert slot_events(results[1])["ticket_codes"] == slot_events(results[0])["ticket_codes"]  # same code
    listing = requests.get(f"{issue_api.url}/api/v1/tickets", params={"phone": "13700002222"},
                           headers=_operator(issue_api), timeout=5).json()["items"]
    assert [t["id"] for t in listing] == [ticket_id]


def test_supply_demand_is_filed_for_people_to_act_on(action_server, issue_api):
    result = _file(action_server, f"conv-{uuid.uuid4()}", request_type="supply_demand", category="其他",
                   description="我们有一批闲置的数控机床想找买家")
    ticket_id = slot_events(result)["last_ticket_id"]
    ticket = requests.get(f"{issue_api.url}/api/v1/tickets/{ticket_id}", headers=_operator(issue_api),
                          timeout=5).json()
    assert ticket["description"].startswith("【供需发布】")
    assert ticket["category"] == "其他" and ticket["kind"] == "help"


def test_follow_up_check_urge_supplement_cancel(action_server, issue_api):
    # The conversation that filed the ticket follows it up: that proves it is the reporter's.
    sender = f"conv-{uuid.uuid4()}"
    ticket_id = slot_events(_file(action_server, sender, phone="13700003333"))["last_ticket_id"]
    grouped = " ".join(ticket_id[i:i + 4] for i in range(0, len(ticket_id), 4))

    check = run_action(action_server.url, "action_followup", text="查一下我的工单", intent="check_ticket",
                       slots={"followup_op": "check"}, metadata={"phone": "13700003333"})
    assert grouped in texts(check) and "已受理" in texts(check)

    urge = run_action(action_server.url, "action_followup", text="帮我催一下", intent="urge_ticket",
                      slots={"followup_op": "urge", "ticket_id": ticket_id}, sender=sender)
    assert "催办" in texts(urge)

    supplement = run_action(action_server.url, "action_followup", text="灯杆也歪了",
                            intent="supplement_ticket",
                            slots={"followup_op": "supplement", "ticket_id": ticket_id,
                                   "supplement_text": "灯杆也歪了"}, sender=sender)
    assert "补充" in texts(supplement)

    keep = run_action(action_server.url, "action_followup", text="不", intent="deny",
                      slots={"followup_op": "cancel", "ticket_id": ticket_id, "cancel_confirmed": False},
                      sender=sender)
    assert "不撤销" in texts(keep)
    cancel = run_action(action_server.url, "action_followup", text="对", intent="affirm",
                        slots={"followup_op": "cancel", "ticket_id": ticket_id, "cancel_confirmed": True},
                        sender=sender)
    assert "已经撤销" in texts(cancel)

    ticket = requests.get(f"{issue_api.url}/api/v1/tickets/{ticket_id}", headers=_operator(issue_api),
                          timeout=5).json()
    assert ticket["status"] == "cancelled"
    actions = [event["action"] for event in ticket["history"]]
    assert "urged" in actions and "supplemented" in actions


def test_a_ticket_urged_minutes_ago_is_not_urged_again_and_the_caller_hears_when_it_was(action_server, issue_api):
    sender = f"conv-{uuid.uuid4()}"
    ticket_id = slot_events(_file(action_server, sender, phone="13700005555"))["last_ticket_id"]
    urges = [run_action(action_server.url, "action_followup", text="帮我催一下", intent="urge_ticket",
                        slots={"followup_op": "urge", "ticket_id": ticket_id}, sender=sender) for _ in range(3)]
    assert [responses(u)[0] for u in urges] == ["utter_urged", "utter_urged_just_now", "utter_urged_just_now"]
    # Only the turn that urged says so to the channel; the others looked the ticket up.
    assert [u["responses"][0]["custom"]["ticket"] for u in urges] == [
        {"id": ticket_id, "action": "urged"}, {"id": ticket_id, "action": "checked"}, {"id": ticket_id, "action": "checked"}]
    ticket = requests.get(f"{issue_api.url}/api/v1/tickets/{ticket_id}", headers=_operator(issue_api),
                          timeout=5).json()
    assert ticket["urge_count"] == 1 and [e["action"] for e in ticket["history"]].count("urged") == 1


def test_a_reason_given_with_the_withdrawal_reaches_the_ticket(action_server, issue_api):
    sender = f"conv-{uuid.uuid4()}"
    ticket_id = slot_events(_file(action_server, sender, phone="13700006666"))["last_ticket_id"]
    asked = {"event": "user", "text": f"这个工单{ticket_id}撤销吧，下水道已经通了",
             "parse_data": {"text": f"这个工单{ticket_id}撤销吧，下水道已经通了", "intent": {"name": "cancel_ticket"}}}
    run_action(action_server.url, "action_followup", text="对", intent="affirm", history=(asked,), sender=sender,
               slots={"followup_op": "cancel", "ticket_id": ticket_id, "cancel_confirmed": True})
    ticket = requests.get(f"{issue_api.url}/api/v1/tickets/{ticket_id}", headers=_operator(issue_api),
                          timeout=5).json()
    assert ticket["status"] == "cancelled" and ticket["cancel_reason"] == "来电人申请撤销：下水道已经通了"


def test_the_reason_said_first_is_kept_when_the_confirmation_names_the_withdrawal_again(action_server, issue_api):
    sender = f"conv-{uuid.uuid4()}"
    ticket_id = slot_events(_file(action_server, sender, phone="13700006667"))["last_ticket_id"]
    def said(text: str) -> dict:
        return {"event": "user", "text": text, "parse_data": {"text": text, "intent": {"name": "cancel_ticket"}}}

    other = "2612010005" if ticket_id != "2612010005" else "2612010006"
    history = (said(f"工单{other}那个路灯的事也撤了吧 路灯已经修好了 电话13812345678"),
               {"event": "slot", "name": "followup_op", "value": "cancel"}, said("确定"),
               said(f"工单{ticket_id}那个消防通道的事不用处理了 物业已经清理了 帮我撤了吧 有事打13812345678"),
               {"event": "slot", "name": "followup_op", "value": "cancel"}, said("是的撤销"))
    run_action(action_server.url, "action_followup", text="确定", intent="affirm", history=history, sender=sender,
               slots={"followup_op": "cancel", "ticket_id": ticket_id, "cancel_confirmed": True})
    ticket = requests.get(f"{issue_api.url}/api/v1/tickets/{ticket_id}", headers=_operator(issue_api),
                          timeout=5).json()
    reason = ticket["cancel_reason"]
    assert reason.startswith("来电人申请撤销：") and "物业已经清理了" in reason
    assert "路灯" not in reason and "13812345678" not in reason and other not in reason  # this withdrawal's own


def test_a_ticket_withdrawn_after_it_was_urged_is_not_said_to_be_urged_just_now(action_server, issue_api):
    sender = f"conv-{uuid.uuid4()}"
    ticket_id = slot_events(_file(action_server, sender, phone="13700005556"))["last_ticket_id"]
    urge = {"text": "帮我催一下", "intent": "urge_ticket", "slots": {"followup_op": "urge", "ticket_id": ticket_id},
            "sender": sender}
    assert responses(run_action(action_server.url, "action_followup", **urge))[0] == "utter_urged"
    requests.post(f"{issue_api.url}/api/v1/tickets/{ticket_id}/cancel", json={"reason": "重复"},
                  headers=_operator(issue_api), timeout=5).raise_for_status()
    again = run_action(action_server.url, "action_followup", **urge)
    assert "utter_urged_just_now" not in responses(again) and "已撤销" in texts(again)


def test_the_only_open_ticket_of_the_caller_is_proposed(action_server):
    phone = "13700004444"
    ticket_id = slot_events(_file(action_server, f"conv-{uuid.uuid4()}", phone=phone))["last_ticket_id"]
    asked = run_action(action_server.url, "action_ask_ticket_id", text="帮我催一下", intent="urge_ticket",
                       slots={"followup_op": "urge"}, metadata={"phone": phone})
    assert slot_events(asked)["ticket_candidate"] == ticket_id
    assert "是这一件吗" in texts(asked)
    yes = run_action(action_server.url, "validate_followup_form", text="是的", intent="affirm",
                     slots={"followup_op": "urge", "ticket_candidate": ticket_id,
                            "requested_slot": "ticket_id"}, metadata={"phone": phone})
    assert slot_events(yes)["ticket_id"] == ticket_id
    assert slot_events(yes)["requested_slot"] is None
    # "没听清" at "是这一件吗？": the same ticket is proposed again, not "请告诉我工单编号".
    again = run_action(action_server.url, "action_ask_ticket_id", text="没听清", intent="ask_repeat",
                       slots={"followup_op": "urge", "ticket_candidate": ticket_id}, metadata={"phone": phone})
    assert slot_events(again)["ticket_candidate"] == ticket_id and "是这一件吗" in texts(again)
    # An answer that was neither yes nor no (the candidate stands): the number is asked for instead.
    other = run_action(action_server.url, "action_ask_ticket_id", text="我想想", intent="inform",
                       slots={"followup_op": "urge", "ticket_candidate": ticket_id}, metadata={"phone": phone})
    assert slot_events(other)["ticket_candidate"] is None and "是这一件吗" not in texts(other)


def test_a_caller_with_a_few_open_tickets_hears_them_newest_first_and_says_which(action_server):
    phone = "13700004455"
    older = slot_events(_file(action_server, f"conv-{uuid.uuid4()}", phone=phone))["last_ticket_id"]
    newer = slot_events(_file(action_server, f"conv-{uuid.uuid4()}", phone=phone))["last_ticket_id"]
    asked = run_action(action_server.url, "action_ask_ticket_id", text="帮我催一下", intent="urge_ticket",
                       slots={"followup_op": "urge"}, metadata={"phone": phone})
    assert slot_events(asked)["ticket_choices"] == [newer, older]
    said = texts(asked)
    assert "您名下有2件工单" in said and said.index(ticket_number(newer)) < said.index(ticket_number(older))
    for answer, meant in (("最新那个", newer), ("第二件", older), (f"尾号{older[-2:]}的", older)):
        picked = run_action(action_server.url, "validate_followup_form", text=answer, intent="inform",
                            slots={"followup_op": "urge", "ticket_choices": [newer, older],
                                   "requested_slot": "ticket_id"}, metadata={"phone": phone})
        assert slot_events(picked)["ticket_id"] == meant, answer
    named = run_action(action_server.url, "action_ask_ticket_id", text=f"催一下尾号{older[-2:]}的", intent="urge_ticket",
                       slots={"followup_op": "urge"}, metadata={"phone": phone})
    assert slot_events(named)["ticket_candidate"] == older and responses(named) == ["utter_ask_ticket_named"]
    unclear = run_action(action_server.url, "validate_followup_form", text="就那个", intent="inform",
                         slots={"followup_op": "urge", "ticket_choices": [newer, older],
                                "requested_slot": "ticket_id"}, metadata={"phone": phone})
    assert slot_events(unclear)["ticket_id"] is None


def test_a_caller_whose_tickets_are_all_finished_is_told_so_before_the_number_is_asked(action_server, issue_api):
    phone = "13700004466"
    ticket_id = slot_events(_file(action_server, f"conv-{uuid.uuid4()}", phone=phone))["last_ticket_id"]
    requests.post(f"{issue_api.url}/api/v1/tickets/{ticket_id}/cancel", json={"reason": "重复"},
                  headers=_operator(issue_api), timeout=5).raise_for_status()
    asked = run_action(action_server.url, "action_ask_ticket_id", text="帮我撤销一下工单", intent="cancel_ticket",
                       slots={"followup_op": "cancel"}, metadata={"phone": phone})
    assert responses(asked) == ["utter_no_fitting_ticket", "utter_ask_ticket_id"]
    assert "都已经办结或撤销" in texts(asked)


def test_rating_only_after_resolution_and_low_scores_reopen(action_server, issue_api):
    filed = _file(action_server, f"conv-{uuid.uuid4()}")
    ticket_id = slot_events(filed)["last_ticket_id"]
    codes = slot_events(filed)["ticket_codes"]  # a later call: the caller gave the query code
    early = run_action(action_server.url, "action_followup", text="非常满意", intent="rate_service",
                       slots={"followup_op": "rate", "ticket_id": ticket_id, "rating": 5, "ticket_codes": codes})
    assert texts(early) == "工单办结后才能评价。"  # the API's reason, said once

    base = f"{issue_api.url}/api/v1/tickets/{ticket_id}"
    requests.post(f"{base}/assign", json={"department": "市政管理局"}, headers=_operator(issue_api),
                  timeout=5).raise_for_status()
    requests.post(f"{base}/resolve", json={"result": "已更换灯泡"}, headers=_operator(issue_api),
                  timeout=5).raise_for_status()
    unconfirmed = run_action(action_server.url, "action_followup", text="不满意 还是不亮", intent="rate_service",
                             slots={"followup_op": "rate", "ticket_id": ticket_id, "rating": 2, "ticket_codes": codes})
    assert responses(unconfirmed) == ["utter_followup_dropped"]  # a low score is never sent back unconfirmed
    assert requests.get(base, headers=_operator(issue_api), timeout=5).json()["status"] == "resolved"
    low = run_action(action_server.url, "action_followup", text="是的", intent="affirm",
                     history=[user_event("不满意 还是不亮", "rate_service")],
                     slots={"followup_op": "rate", "ticket_id": ticket_id, "rating": 2, "rating_confirmed": True,
                            "ticket_codes": codes})
    assert "重新办理" in texts(low)
    assert "2分，不满意" in texts(low)  # said back: a misheard score does not pass unnoticed
    ticket = requests.get(base, headers=_operator(issue_api), timeout=5).json()
    assert ticket["status"] == "in_progress"
    rated = next(e for e in ticket["history"] if e["action"] == "rated")
    assert rated["actor"] == "reporter" and "(接口录入)" in rated["note"]  # no channel metadata in this test
    assert rated["note"].endswith(":不满意 还是不亮")  # the words that gave the score, not the "是的"


def test_unknown_ticket_number_is_asked_again(action_server):
    result = run_action(action_server.url, "validate_followup_form", text="99999999", intent="inform",
                        slots={"followup_op": "check", "requested_slot": "ticket_id"})
    assert slot_events(result)["ticket_id"] is None
    assert "没有查到" in texts(result)


def test_an_operation_the_ticket_s_status_rules_out_is_not_asked_about(action_server, issue_api):
    filed = _file(action_server, f"conv-{uuid.uuid4()}")
    ticket_id = slot_events(filed)["last_ticket_id"]
    codes = slot_events(filed)["ticket_codes"]  # a later call: the conversation knows the query code

    def opening(text, intent, op):
        return run_action(action_server.url, "validate_followup_form", text=f"{text} {ticket_id}", intent=intent,
                          slots={"followup_op": op, "ticket_codes": codes})

    rate_early = opening("我要评价工单", "rate_service", "rate")
    assert "还没有办结" in texts(rate_early) and "办结后" in texts(rate_early)
    assert slot_events(rate_early)["followup_op"] == "stopped" and slot_events(rate_early)["requested_slot"] is None

    base = f"{issue_api.url}/api/v1/tickets/{ticket_id}"
    for action, body in (("assign", {"department": "市政公用服务中心"}), ("resolve", {"result": "已更换灯泡"})):
        requests.post(f"{base}/{action}", json=body, headers=_operator(issue_api), timeout=5).raise_for_status()
    cancel_late = opening("撤销工单", "cancel_ticket", "cancel")
    assert "已经办结，不能撤销" in texts(cancel_late) and "评价" in texts(cancel_late)
    assert slot_events(cancel_late)["requested_slot"] is None  # never "确定要撤销吗?"
    supplement_late = opening("补充材料", "supplement_ticket", "supplement")
    assert "不能再补充" in texts(supplement_late) and slot_events(supplement_late)["requested_slot"] is None
    rate_now = opening("我要评价工单", "rate_service", "rate")
    assert slot_events(rate_now)["requested_slot"] == "rating"  # resolved: the question is asked
    assert requests.get(base, headers=_operator(issue_api), timeout=5).json()["status"] == "resolved"


def test_a_caller_who_would_rather_not_give_a_name_is_filed_as_anonymous(action_server):
    slots = {**FORM_SLOTS, "contact_name": None, "phone": None, "ticket_confirmed": None,
             "requested_slot": "contact_name"}
    declined = run_action(action_server.url, "validate_ticket_form", text="这个不方便透露", intent="deny", slots=slots)
    assert slot_events(declined)["contact_name"] == "匿名" and "匿名" in texts(declined)
    asked_back = run_action(action_server.url, "validate_ticket_form", text="你问这个干嘛", intent="out_of_scope",
                            slots=slots)
    assert slot_events(asked_back)["contact_name"] is None and "没听清" in texts(asked_back)


def test_a_confirmation_repeated_after_a_lost_turn_files_the_same_ticket(action_server, issue_api):
    sender = f"conv-{uuid.uuid4()}"  # Rasa died after the action filed: the turn was never stored
    slots = {**FORM_SLOTS, "phone": "13700009393"}
    first = run_action(action_server.url, "action_submit_ticket", text="对", intent="affirm", slots=slots, sender=sender)
    again = run_action(action_server.url, "action_submit_ticket", text="对，确认提交", intent="affirm", slots=slots,
                       sender=sender)  # a new turn, the same report
    assert slot_events(again)["last_ticket_id"] == slot_events(first)["last_ticket_id"]
    listing = requests.get(f"{issue_api.url}/api/v1/tickets", params={"phone": "13700009393"},
                           headers=_operator(issue_api), timeout=5).json()["items"]
    assert len(listing) == 1
    later = run_action(action_server.url, "action_submit_ticket", text="对", intent="affirm", sender=sender,
                       slots={**slots, "last_ticket_id": slot_events(first)["last_ticket_id"]})
    assert slot_events(later)["last_ticket_id"] != slot_events(first)["last_ticket_id"]  # filed again on purpose


def test_a_field_too_long_to_file_is_asked_again_before_anything_is_promised(action_server):
    slots = {**FORM_SLOTS, "ticket_confirmed": None, "requested_slot": "ticket_confirmed"}
    result = run_action(action_server.url, "validate_ticket_form", text="地址改成" + "锦业路" * 100, intent="inform",
                        slots=slots)
    assert "太长" in texts(result) and "地点" in texts(result)
    assert "location" not in slot_events(result) or slot_events(result)["location"] is None
    assert slot_events(result)["requested_slot"] == "ticket_confirmed"


def test_a_chat_that_filed_a_ticket_is_offered_it_without_a_number(action_server):
    sender = f"web-{uuid.uuid4().hex}"
    ticket_id = slot_events(_file(action_server, sender, channel="web", phone="13700006060"))["last_ticket_id"]
    asked = run_action(action_server.url, "action_ask_ticket_id", text="查一下我的工单", intent="check_ticket",
                       slots={"followup_op": "check"}, metadata={"channel": "web"}, sender=sender)
    assert slot_events(asked)["ticket_candidate"] == ticket_id and "是这一件吗" in texts(asked)
    stranger = run_action(action_server.url, "action_ask_ticket_id", text="查一下我的工单", intent="check_ticket",
                          slots={"followup_op": "check"}, metadata={"channel": "web"}, sender=f"web-{uuid.uuid4().hex}")
    assert slot_events(stranger)["ticket_candidate"] is None and ticket_id not in texts(stranger)


def test_a_supply_and_demand_description_leaves_room_for_its_label(action_server):
    from actions.ticket_form import DESCRIPTION_MAX, PREFIX

    assert DESCRIPTION_MAX + max(len(p) for p in PREFIX.values()) <= 2000
    longest = "供应精密模具加工" * 250  # 2000 characters: with 【供需发布】 more than the API keeps
    result = run_action(action_server.url, "validate_ticket_form", text=longest, intent="inform",
                        slots={"requested_slot": "description", "request_type": "supply_demand"})
    assert slot_events(result)["description"] is None and slot_events(result)["description_hint"] == "too_long"


def test_a_query_code_said_with_a_supplement_never_reaches_the_ticket_or_the_handoff(action_server, issue_api):
    filed = slot_events(_file(action_server, f"conv-{uuid.uuid4()}", phone="13700005555"))
    ticket_id = filed["last_ticket_id"]
    code = filed["ticket_codes"][ticket_id]
    said = f"补充一下工单{ticket_id}，查询码{code}，内容是晚上十点后灯全灭"
    stranger = f"conv-{uuid.uuid4()}"  # another chat: the code is its proof
    opened = slot_events(run_action(action_server.url, "validate_followup_form", text=said,
                                    intent="supplement_ticket", sender=stranger))
    assert opened["ticket_proved"] is True
    assert opened["supplement_text"] == "补充一下工单，内容是晚上十点后灯全灭"
    run_action(action_server.url, "action_followup", text=said, intent="supplement_ticket", sender=stranger,
               slots={"followup_op": "supplement", "ticket_id": ticket_id, "ticket_proved": True,
                      "ticket_codes": {ticket_id: code}, "supplement_text": said})
    ticket = requests.get(f"{issue_api.url}/api/v1/tickets/{ticket_id}", headers=_operator(issue_api),
                          timeout=5).json()
    assert "晚上十点后灯全灭" in str(ticket) and code not in str(ticket).replace(ticket_id, "")

    handed = run_action(action_server.url, "action_handoff", text="转人工", intent="request_human",
                        sender=stranger, slots={"ticket_codes": {ticket_id: code}},
                        history=[user_event(said, "supplement_ticket"), user_event(code, "inform")])
    [handoff] = payloads(handed, "handoff")
    assert code not in handoff["summary"] and "查询码******" in handoff["summary"]


def test_a_company_or_a_name_the_nlu_caught_only_part_of_is_kept_whole(action_server):
    asked = {**FORM_SLOTS, "company": None, "contact_name": None, "ticket_confirmed": None}
    cases = [("company", "高新测试有限公司", "高新", "高新测试有限公司"),
             ("company", "我们是高新区软件园管理有限公司", "高新", "高新区软件园管理有限公司"),
             ("company", "华山科技有限公司", "科技有限公司", "华山科技有限公司"),
             ("contact_name", "赵六", "赵", "赵六"),
             ("contact_name", "联系人是钱七", "钱", "钱七"),
             # ... but chatter around a name, or a second place in the answer, is no part of it
             ("company", "西安华清科技有限公司在高新路中心", "西安华清科技有限公司", "西安华清科技有限公司"),
             ("contact_name", "我叫张伟，弓长张", "张伟", "张伟"),
             ("contact_name", "王秀兰啊", "王秀兰", "王秀兰"),
             ("contact_name", "张伟谢谢", "张伟", "张伟"),
             ("contact_name", "免贵姓张", "张", "张")]
    for slot, said, caught, kept in cases:
        entity = "company" if slot == "company" else "person"
        result = run_action(action_server.url, "validate_ticket_form", text=said, intent="inform",
                            slots={**asked, "requested_slot": slot},
                            entities=[{"entity": entity, "value": caught}])
        assert slot_events(result)[slot] == kept, (said, caught)


def test_an_extension_is_read_back_and_written_where_the_department_reads_it(action_server, issue_api):
    said = run_action(action_server.url, "validate_ticket_form", text="0574-87654321转8008", intent="inform",
                      slots={**FORM_SLOTS, "phone": None, "ticket_confirmed": None, "requested_slot": "phone"})
    assert slot_events(said)["phone"] == "0574-87654321" and slot_events(said)["phone_extension"] == "8008"
    read_back = run_action(action_server.url, "action_ask_ticket_confirmed", text="0574-87654321转8008",
                           slots={**FORM_SLOTS, "phone": "0574-87654321", "phone_extension": "8008",
                                  "ticket_confirmed": None})
    assert "电话0574 8765 4321 转 8008" in texts(read_back)
    result = _file(action_server, f"conv-{uuid.uuid4()}", phone="0574-87654321", phone_extension="8008")
    ticket = requests.get(f"{issue_api.url}/api/v1/tickets/{slot_events(result)['last_ticket_id']}",
                          headers=_operator(issue_api), timeout=5).json()
    assert ticket["phone"] == "0574-87654321"
    assert ticket["description"] == FORM_SLOTS["description"] + "（联系电话分机：8008）"
    changed = run_action(action_server.url, "validate_ticket_form", text="不对，电话是13700002222", intent="inform",
                         slots={**FORM_SLOTS, "phone_extension": "8008", "ticket_confirmed": None,
                                "requested_slot": "ticket_confirmed"})
    assert slot_events(changed)["phone_extension"] is None  # another number: the old extension goes with the old one


def test_the_reason_given_at_the_confirmation_is_kept_and_a_mere_reference_is_not_one(action_server, issue_api):
    sender = f"conv-{uuid.uuid4()}"
    ticket_id = slot_events(_file(action_server, sender, phone="13700006668"))["last_ticket_id"]

    def said(text: str) -> dict:
        return {"event": "user", "text": text, "parse_data": {"text": text, "intent": {"name": "cancel_ticket"}}}

    history = (said("把电梯那个工单撤销一下"), {"event": "slot", "name": "followup_op", "value": "cancel"})
    run_action(action_server.url, "action_followup", text="已经修好了", intent="affirm", history=history, sender=sender,
               slots={"followup_op": "cancel", "ticket_id": ticket_id, "cancel_confirmed": True})
    ticket = requests.get(f"{issue_api.url}/api/v1/tickets/{ticket_id}", headers=_operator(issue_api),
                          timeout=5).json()
    assert ticket["cancel_reason"] == "来电人申请撤销：已经修好了"
