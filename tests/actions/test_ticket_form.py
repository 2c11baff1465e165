"""The filing form's answers as real callers give them: more than was asked, less than was asked, or
something else entirely; on a live action server."""
from __future__ import annotations

from typing import Any

import pytest

from tests.actions.webhook import responses, run_action, slot_events, texts

FILLED = {"request_type": "problem", "description": "园区门口的路灯坏了好几天了", "category": "市政设施"}


def bot(response: str) -> dict[str, Any]:
    """A bot event as Rasa logs it: the response's name in its metadata."""
    return {"event": "bot", "text": "…", "metadata": {"utter_action": response}}


def user(text: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"text": text, "intent": {"name": "inform"}}}


def answer(action_server, text: str, asked: str, history: tuple = (), **slots: Any) -> dict[str, Any]:
    return run_action(action_server.url, "validate_ticket_form", text=text, history=history,
                      slots={**FILLED, **slots, "requested_slot": asked})


def test_company_name_and_phone_in_one_breath_fill_all_three(action_server):
    result = answer(action_server, "西安宏远建材有限公司，我叫王五，电话13512348888", "company", category="市政设施")
    slots = slot_events(result)
    assert (slots["company"], slots["contact_name"], slots["phone"]) == ("西安宏远建材有限公司", "王五", "13512348888")
    assert slots["requested_slot"] == "ticket_confirmed"
    said = slot_events(answer(action_server, "我们公司是西安宏远建材有限公司，联系人是王五", "company"))
    assert (said["company"], said["contact_name"]) == ("西安宏远建材有限公司", "王五")


@pytest.mark.parametrize("name", ["中国铁路西安局集团有限公司", "国网陕西省电力有限公司西安供电公司", "中国银行西安分行",
                                  "西安电厂家属院物业管理有限公司", "西安交通大学第一附属医院", "西安什么值得买科技有限公司",
                                  "西安市个体劳动者协会", "西安个人护理用品有限公司"])
def test_a_company_name_with_several_endings_is_kept_whole(action_server, name):
    assert slot_events(answer(action_server, name, "company"))["company"] == name


def test_the_company_and_its_person_in_one_phrase(action_server):
    slots = slot_events(answer(action_server, "我是西安供电设备有限公司的张伟", "company"))
    assert (slots["company"], slots["contact_name"]) == ("西安供电设备有限公司", "张伟")


@pytest.mark.parametrize("said", ["喂？还在吗", "你自己看着办吧", "我也说不好", "为什么要问公司名？"])
def test_a_question_or_chatter_is_not_taken_for_the_company(action_server, said):
    result = answer(action_server, said, "company")
    assert slot_events(result)["company"] is None and slot_events(result)["requested_slot"] == "company"
    assert responses(result) == ["utter_company_not_understood"]


@pytest.mark.parametrize("said", ["我不方便说单位", "不想透露公司名"])
def test_a_caller_who_will_not_name_the_company_is_told_why_it_is_needed(action_server, said):
    result = answer(action_server, said, "company")
    assert slot_events(result)["company"] is None and responses(result) == ["utter_company_required"]
    personal = slot_events(answer(action_server, "个人", "company"))
    assert personal["company"] == "个人"


def test_one_more_thing_about_the_problem_is_added_not_taken_for_the_company(action_server):
    result = answer(action_server, "对了还有，我们那边的路灯也坏了", "company", description="三号楼停电了")
    slots = slot_events(result)
    assert slots["description"] == "三号楼停电了；我们那边的路灯也坏了"
    assert "company" not in slots or slots["company"] is None
    assert slots["requested_slot"] == "company" and responses(result) == ["utter_description_added"]


@pytest.mark.parametrize("said", ["华清科技有限公司，我是负责人", "华清科技有限公司，我是这里的员工"])
def test_a_role_in_the_company_is_not_taken_for_the_contact_s_name(action_server, said):
    slots = slot_events(answer(action_server, said, "company"))
    assert slots["company"] == "华清科技有限公司" and "contact_name" not in slots


@pytest.mark.parametrize("said", ["那就个人吧", "没有单位", "不是公司，是个人"])
def test_a_report_without_a_company_is_filed_as_personal(action_server, said):
    assert slot_events(answer(action_server, said, "company"))["company"] == "个人"


def test_a_company_named_after_also_is_the_answer_not_more_problem(action_server):
    slots = slot_events(answer(action_server, "还有，我们公司叫华清科技", "company", description="三号楼停电了"))
    assert slots["company"] == "华清科技" and "description" not in slots


def test_the_problem_named_first_is_kept_with_the_details_asked_for(action_server):
    history = (user("停电了"), bot("utter_ask_description"))
    result = answer(action_server, "整个厂区都停了，从早上到现在", "description", history=history,
                    description=None, category="供水供电供气")
    assert slot_events(result)["description"] == "停电了，整个厂区都停了，从早上到现在"
    # A first message without a problem in it ("我要反映个问题") is not put in front.
    plain = answer(action_server, "三号楼的路灯不亮了", "description", description=None, category=None,
                   history=(user("我要反映个问题"), bot("utter_ask_description")))
    assert slot_events(plain)["description"] == "三号楼的路灯不亮了"
    assert slot_events(plain)["category"] == "市政设施"
    # A question the bot answered before asking for the details is not part of the report.
    asked = answer(action_server, "园区三号楼门口的路灯坏了一个星期了", "description", description=None, category=None,
                   history=(user("电费怎么交？"), bot("utter_ask_policy/electricity"), bot("utter_ask_description")))
    assert slot_events(asked)["description"] == "园区三号楼门口的路灯坏了一个星期了"
    assert slot_events(asked)["category"] == "市政设施"


def test_a_category_not_understood_twice_is_filed_as_other(action_server):
    first = answer(action_server, "就是修路", "category", category=None,
                   history=(user("小区门口修路把我们店门口堵了"), bot("utter_ask_category")))
    assert slot_events(first)["category"] is None and responses(first) == ["utter_category_not_understood"]
    second = answer(action_server, "对", "category", category=None,
                    history=(bot("utter_ask_category"), user("就是修路"),
                             bot("utter_category_not_understood"), bot("utter_ask_category")))
    assert slot_events(second)["category"] == "其他" and responses(second) == ["utter_category_defaulted"]
    assert slot_events(second)["requested_slot"] == "company"


def test_a_name_corrected_at_the_read_back_keeps_only_the_right_one(action_server):
    result = answer(action_server, "名字写错了，是张伟不是张玮", "ticket_confirmed",
                    company="西安华清科技有限公司", contact_name="张玮", phone="13700001111")
    assert slot_events(result)["contact_name"] == "张伟"


def _span(text: str, name: str, piece: str) -> dict[str, Any]:
    start = text.index(piece)
    return {"entity": name, "start": start, "end": start + len(piece), "value": piece}


@pytest.mark.parametrize("said, place", [("园区西门的路灯坏了", "西门"), ("创业园区门口堆满了垃圾", "创业园"),
                                         ("我们三号楼停电了", "三号楼")])
def test_a_place_in_the_report_taken_for_a_company_is_asked_for_instead(action_server, said, place):
    """Kept as the company, every later answer would land one question off (the company in the name)."""
    opened = run_action(action_server.url, "validate_ticket_form", text=said, intent="report_problem",
                        entities=[_span(said, "company", place)], slots={})
    slots = slot_events(opened)
    assert "company" not in slots and slots["requested_slot"] == "company"


def test_a_company_the_caller_says_they_are_from_is_kept_from_the_report(action_server):
    for said, name in (("我是华清科技的 我们厂区停电了", "华清科技"), ("西安鼎新材料有限公司这边停水了", "西安鼎新材料有限公司"),
                       ("我们公司叫西安锐思智能，园区停电了", "西安锐思智能"), ("华清科技这边停电了", "华清科技"),
                       ("鼎新公司停水了", "鼎新"), ("我们单位叫华清科技 门口路灯不亮", "华清科技")):
        opened = run_action(action_server.url, "validate_ticket_form", text=said, intent="report_problem",
                            entities=[_span(said, "company", name)], slots={})
        assert slot_events(opened)["company"] == name, said


READ_BACK = {"company": "嘉兴佳禾纺织有限公司", "contact_name": "赵敏", "phone": "13511112222"}


@pytest.mark.parametrize("said, field", [("公司名", "company"), ("公司名错了", "company"), ("改一下电话", "phone"),
                                         ("名字写错了", "contact_name"), ("类别不对", "category"), ("问题", "description")])
def test_naming_the_field_to_change_at_the_read_back_asks_it_again_and_files_nothing(action_server, said, field):
    """After "不对" and "哪一项需要修改？", "公司名" (which the NLU may hear as a yes) filed the old data."""
    result = run_action(action_server.url, "validate_ticket_form", text=said, intent="affirm",
                        slots={**FILLED, **READ_BACK, "requested_slot": "ticket_confirmed"})
    slots = slot_events(result)
    assert slots[field] is None and slots.get("ticket_confirmed") is None and slots["requested_slot"] == field
    assert not any(r.startswith("utter_corrected") for r in responses(result))  # nothing was changed yet


def test_a_surname_the_nlu_left_off_and_a_name_starting_with_a_filler_sound_are_kept(action_server):
    person = [{"entity": "person", "value": "振华", "start": 1, "end": 3}]
    hu = run_action(action_server.url, "validate_ticket_form", text="胡振华", entities=person,
                    slots={**FILLED, "company": "嘉兴佳禾纺织有限公司", "requested_slot": "contact_name"})
    assert slot_events(hu)["contact_name"] == "胡振华"
    assert slot_events(answer(action_server, "额尔敦", "contact_name", company="嘉兴佳禾纺织有限公司"))["contact_name"] == "额尔敦"
    # Talk about the name is no name.
    for said in ("我刚才说过了", "写错了"):
        result = answer(action_server, said, "contact_name", company="嘉兴佳禾纺织有限公司")
        assert slot_events(result)["contact_name"] is None, said


def test_a_caller_who_will_not_leave_a_phone_hears_why_once_and_then_is_not_asked_a_third_time(action_server):
    named = {"company": "嘉兴佳禾纺织有限公司", "contact_name": "赵敏"}
    first = answer(action_server, "不方便留电话", "phone", **named)
    assert responses(first) == ["utter_phone_why"] and slot_events(first)["requested_slot"] == "phone"
    again = answer(action_server, "就不能不留吗", "phone", history=(bot("utter_phone_why"), bot("utter_ask_phone")), **named)
    assert responses(again) == ["utter_phone_declined_stop"]
    assert slot_events(again)["requested_slot"] is None and slot_events(again)["ticket_confirmed"] is None


def test_a_lead_in_is_no_description_and_the_problem_told_at_the_category_question_is_kept(action_server):
    lead_in = answer(action_server, "是这样的，我跟你说一下", "description", description=None, category=None)
    assert slot_events(lead_in)["description"] is None  # asked again for the problem itself
    told = answer(action_server, "我们园区从上周开始每天下午都停电，已经影响订单交付了", "category",
                  description="园区有个问题", category=None)
    slots = slot_events(told)
    assert slots["description"] == "园区有个问题；我们园区从上周开始每天下午都停电，已经影响订单交付了"
    assert slots["category"] == "供水供电供气"
    # An answer about the category is only that.
    plain = answer(action_server, "应该属于环境噪音这一类吧", "category", description="园区有个问题", category=None)
    assert "description" not in slot_events(plain) and slot_events(plain)["category"] == "环境噪音"


def test_a_company_the_nlu_caught_only_the_ending_of_in_a_whole_report_is_kept_whole(action_server):
    said = "我是金华义乌市福田小商品贸易有限公司的，我叫吴海燕，手机13957911234，我们店门口的下水道堵了"
    opened = run_action(action_server.url, "validate_ticket_form", text=said, intent="report_problem",
                        entities=[{"entity": "company", "value": "有限公司"}], slots={})
    assert slot_events(opened)["company"] == "金华义乌市福田小商品贸易有限公司"


def test_a_report_left_for_a_look_up_is_kept_as_a_draft(action_server):
    half_way = {**FILLED, "kind": "complaint", "location": "园区东门", "requested_slot": "company"}
    stopped = run_action(action_server.url, "action_stop_filing", text="等一下 先帮我查一下工单", intent="check_ticket",
                         slots=half_way)
    slots = slot_events(stopped)
    assert responses(stopped) == ["utter_filing_stopped_for_followup"] and slots["description"] is None
    assert slots["filing_draft"] == {"request_type": "problem", "description": FILLED["description"],
                                     "category": "市政设施", "kind": "complaint", "location": "园区东门"}
    dropped = slot_events(run_action(action_server.url, "action_stop_filing", text="算了 不报了", intent="deny",
                                     slots=half_way))
    assert dropped["filing_draft"] is None  # dropped on purpose: nothing to pick up


@pytest.mark.parametrize("said", ["继续登记", "查完了，继续刚才的登记", "接着刚才的问题说", "刚才那个问题继续报吧"])
def test_continuing_picks_the_draft_up_where_it_was_left(action_server, said):
    draft = {"request_type": "problem", "description": "园区门口的路灯坏了好几天了", "category": "市政设施",
             "kind": "complaint"}
    opened = run_action(action_server.url, "validate_ticket_form", text=said, intent="report_problem",
                        slots={"filing_draft": draft, "company": "西安华清科技有限公司", "requested_slot": None})
    slots = slot_events(opened)
    assert responses(opened) == ["utter_filing_resumed"]
    assert {slot: slots[slot] for slot in draft} == draft and slots["filing_draft"] is None
    assert slots["requested_slot"] == "contact_name"  # the company was known already


def test_what_a_draft_lacks_is_taken_from_the_turn_that_picks_it_up(action_server):
    opened = run_action(action_server.url, "validate_ticket_form", text="继续登记，问题是园区东门的路灯不亮了",
                        intent="report_problem", slots={"filing_draft": {"request_type": "problem", "category": "市政设施"},
                                                        "requested_slot": None})
    slots = slot_events(opened)
    assert "路灯" in slots["description"] and slots["category"] == "市政设施" and slots["kind"]


def test_a_new_report_drops_the_draft_and_starts_afresh(action_server):
    draft = {"request_type": "problem", "description": "园区门口的路灯坏了好几天了", "category": "市政设施"}
    opened = run_action(action_server.url, "validate_ticket_form", text="我们公司停水了", intent="report_problem",
                        slots={"filing_draft": draft, "requested_slot": None})
    slots = slot_events(opened)
    assert slots["description"] == "我们公司停水了" and slots["filing_draft"] is None
    assert "utter_filing_resumed" not in responses(opened)


def test_a_category_contrast_at_the_company_question_corrects_the_category_not_the_company(action_server):
    result = answer(action_server, "不是市政设施，是供电的问题，厂区已经停电两天了", "company")
    slots = slot_events(result)
    assert slots["category"] == "供水供电供气" and "company" not in slots
    assert responses(result) == ["utter_corrected_category"] and slots["requested_slot"] == "company"
    unclear = answer(action_server, "不是市政设施，是那个什么来着", "company")
    slots = slot_events(unclear)
    assert slots["category"] is None and "company" not in slots and slots["requested_slot"] == "category"
    assert responses(unclear) == ["utter_category_not_understood"]


# What callers answer when they answer another question (a conversation tester's findings) ---------

@pytest.mark.parametrize("said", ["好 谢谢", "是的", "对", "算了算了不报了 我先问问运营商"])
def test_a_yes_thanks_or_giving_up_is_not_taken_for_the_company(action_server, said):
    result = answer(action_server, said, "company")
    assert slot_events(result).get("company") is None, said
    assert slot_events(result)["requested_slot"] == "company"


@pytest.mark.parametrize("said", ["是的", "对", "好的"])
def test_a_yes_is_not_taken_for_the_contact_s_name(action_server, said):
    result = answer(action_server, said, "contact_name", company="嘉兴佳禾纺织有限公司")
    assert slot_events(result)["contact_name"] is None and responses(result) == ["utter_name_not_understood"]


@pytest.mark.parametrize("said", ["不对 不是投诉 是举报", "是举报不是投诉"])
def test_the_kind_corrected_at_another_question_changes_the_kind_and_keeps_the_question(action_server, said):
    result = answer(action_server, said, "company", kind="complaint")
    slots = slot_events(result)
    assert slots["kind"] == "report" and "company" not in slots and slots["requested_slot"] == "company"
    assert texts(result) == "好的，登记类型改为举报。"


def test_a_spelled_out_character_is_not_part_of_the_corrected_company_or_name(action_server):
    result = answer(action_server, "不对 公司名写错了 是西安鼎晟软件有限公司 晟是日成晟", "contact_name",
                    company="西安鼎盛软件有限公司")
    assert slot_events(result)["company"] == "西安鼎晟软件有限公司"
    named = answer(action_server, "杨阳 太阳的阳", "contact_name", company="西安鼎晟软件有限公司")
    assert slot_events(named)["contact_name"] == "杨阳"


def test_an_address_given_for_the_company_becomes_the_place_and_the_company_is_asked_again(action_server):
    result = answer(action_server, "高新区唐延路十一号 那个楼", "company")
    slots = slot_events(result)
    assert slots["company"] is None and slots["location"] == "高新区唐延路十一号 那个楼"
    assert slots["requested_slot"] == "company" and responses(result) == ["utter_place_noted"]
    kept = slot_events(answer(action_server, "科技路33号", "company", location="锦业路"))
    assert kept["company"] is None and "location" not in kept  # the place said first stays


def test_a_name_said_after_the_company_is_the_contact_not_part_of_the_company(action_server):
    said = "西安智联数据有限公司 马超"
    result = run_action(action_server.url, "validate_ticket_form", text=said,
                        entities=[_span(said, "company", said), _span(said, "person", "马超")],
                        slots={**FILLED, "requested_slot": "company"})
    assert (slot_events(result)["company"], slot_events(result)["contact_name"]) == ("西安智联数据有限公司", "马超")


@pytest.mark.parametrize("said, name", [
    ("喂你好 我是西安秦岭新材料有限公司的 我姓冯叫冯建军 我们厂区老是停电", "冯建军"),
    ("我叫王五 我们园区门口的路灯坏了好几天了", "王五"),
])
def test_a_name_given_in_the_report_itself_is_kept(action_server, said, name):
    opened = run_action(action_server.url, "validate_ticket_form", text=said, intent="report_problem", slots={})
    assert slot_events(opened)["contact_name"] == name


def test_i_have_called_them_many_times_is_no_name(action_server):
    said = "我叫了好几次物业都没人管 园区门口的路灯坏了"
    opened = run_action(action_server.url, "validate_ticket_form", text=said, intent="report_problem", slots={})
    assert "contact_name" not in slot_events(opened)


@pytest.mark.parametrize("said, request_type", [
    ("我们公司有一批闲置的数控机床想卖掉 能在你们平台上发布吗", "supply_demand"),
    ("我们想找个代理记账的公司 还有做专利申请的", "intermediary"),
])
def test_a_request_said_in_one_go_is_told_where_it_goes(action_server, said, request_type):
    intent = {"supply_demand": "supply_demand", "intermediary": "intermediary_service"}[request_type]
    opened = run_action(action_server.url, "validate_ticket_form", text=said, intent=intent, slots={})
    assert slot_events(opened)["request_type"] == request_type
    assert responses(opened) == [f"utter_noted_{request_type}"]


# Danger to life: what to do first ------------------------------------------------------------------

@pytest.mark.parametrize("said, advice, words", [
    ("着火了 我们隔壁仓库着火了 烟好大 怎么办", "utter_safety_fire", "119"),
    ("我们公司的燃气管道好像有点漏气 闻着有味道", "utter_safety_gas", "关闭燃气总阀"),
    ("厂区门口的电线掉下来了 还在冒火花", "utter_safety_electric", "95598"),
    ("园区里脚手架倒了 有人受伤了", "utter_safety_injury", "120"),
])
def test_a_report_of_danger_to_life_hears_what_to_do_first_and_the_form_goes_on(action_server, said, advice, words):
    opened = run_action(action_server.url, "validate_ticket_form", text=said, intent="report_problem", slots={})
    assert responses(opened)[0] == advice and words in texts(opened)
    assert slot_events(opened)["requested_slot"]  # the report is still taken
    again = run_action(action_server.url, "validate_ticket_form", text=said, intent="inform",
                       slots={**FILLED, "requested_slot": "company"}, history=[bot(advice)])
    assert advice not in responses(again)  # once a conversation


@pytest.mark.parametrize("said", ["消防通道被堵了", "想问一下仓库有没有火灾隐患", "上次着火的事还没处理完"])
def test_no_advice_without_danger_now(action_server, said):
    opened = run_action(action_server.url, "validate_ticket_form", text=said, intent="report_problem", slots={})
    assert not any(r.startswith("utter_safety") for r in responses(opened))


def test_the_phone_said_to_be_wrong_at_the_read_back_is_asked_for_not_offered_again(action_server):
    result = run_action(action_server.url, "validate_ticket_form", text="电话不对", intent="deny",
                        slots={**FILLED, **READ_BACK, "phone_offer": "13511112222", "phone_offered": True,
                               "requested_slot": "ticket_confirmed"})
    slots = slot_events(result)
    assert slots["phone"] is None and slots["phone_offered"] is False and slots["requested_slot"] == "phone"


def test_a_company_whose_name_sounds_like_a_hazard_gets_no_advice(action_server):
    result = answer(action_server, "西安火灾报警设备有限公司", "company")
    assert slot_events(result)["company"] == "西安火灾报警设备有限公司"
    assert not any(r.startswith("utter_safety") for r in responses(result))


def test_a_company_said_with_its_address_keeps_both(action_server):
    slots = slot_events(answer(action_server, "西安华清科技 在唐延路11号", "company"))
    assert (slots["company"], slots["location"]) == ("西安华清科技", "唐延路11号")
    assert slot_events(answer(action_server, "西安丝路楼兰文化传媒", "company"))["company"] == "西安丝路楼兰文化传媒"


def test_more_about_the_problem_with_a_kind_correction_is_added_to_the_description(action_server):
    result = answer(action_server, "是建议不是投诉 希望园区多装几个充电桩", "company", kind="complaint")
    slots = slot_events(result)
    assert slots["kind"] == "suggestion" and slots["description"].endswith("；希望园区多装几个充电桩")


@pytest.mark.parametrize("said", ["联系人是本人 电话就是这个 园区门口路灯坏了", "联系人换人了 之前报的路灯还没修",
                                  "我叫外卖 外卖员把电动车停在消防通道", "名字叫不上来 反正门口路灯坏了"])
def test_talk_after_who_is_the_contact_is_no_name(action_server, said):
    opened = run_action(action_server.url, "validate_ticket_form", text=said, intent="report_problem", slots={})
    assert "contact_name" not in slot_events(opened), said



# Round two of the conversation tester ---------------------------------------------------------------

@pytest.mark.parametrize("said", ["你是真人还是机器", "那知识产权申请呢", "不是我是要补充之前的工单", "喂喂听得到吗"])
def test_talk_to_the_bot_or_about_another_request_is_no_company(action_server, said):
    assert slot_events(answer(action_server, said, "company")).get("company") is None, said


def test_a_company_said_at_the_name_question_corrects_the_company_and_asks_the_name_again(action_server):
    result = answer(action_server, "西安远航机械有限公司", "contact_name", company="园区门口")
    slots = slot_events(result)
    assert slots["company"] == "西安远航机械有限公司" and slots["contact_name"] is None
    assert slots["requested_slot"] == "contact_name"


def test_a_name_corrected_wrong_one_first_keeps_the_right_one(action_server):
    result = answer(action_server, "名字说错了不是周敏是周明明", "phone", company="嘉兴佳禾纺织有限公司", contact_name="周敏")
    assert slot_events(result)["contact_name"] == "周明明"


def test_the_company_in_a_one_breath_report_starts_where_the_caller_says_who_they_are(action_server):
    said = "你好我要反映个事情我们是陕西秦创电子有限公司的我叫李娜 我们厂区停电已经三天了"
    ran_on = _span(said, "company", "要反映个事情我们是陕西秦创电子有限公司")  # as the NLU took it
    opened = run_action(action_server.url, "validate_ticket_form", text=said, intent="report_problem",
                        entities=[ran_on], slots={})
    assert slot_events(opened)["company"] == "陕西秦创电子有限公司"


def test_a_company_said_at_the_category_question_is_the_company_not_more_problem(action_server):
    result = answer(action_server, "西安启明星教育科技有限公司", "category", category=None)
    slots = slot_events(result)
    assert slots["company"] == "西安启明星教育科技有限公司" and "description" not in slots
    assert slots["requested_slot"] == "category"


@pytest.mark.parametrize("said", ["啊", "啊？", "嗯？"])
def test_a_huh_at_the_read_back_files_nothing(action_server, said):
    result = run_action(action_server.url, "validate_ticket_form", text=said, intent="affirm",
                        slots={**FILLED, **READ_BACK, "requested_slot": "ticket_confirmed"})
    assert slot_events(result).get("ticket_confirmed") is not True


def test_a_danger_that_makes_the_category_plain_skips_the_list_of_twelve(action_server):
    said = "我们仓库里化学品泄漏了味道很刺鼻有人头晕"
    opened = run_action(action_server.url, "validate_ticket_form", text=said, intent="report_problem", slots={})
    assert responses(opened)[0] == "utter_safety_chemical"
    assert slot_events(opened)["category"] == "安全消防" and slot_events(opened)["requested_slot"] == "company"



@pytest.mark.parametrize("said, place, expected", [("在锦业路六十九号 路灯坏了", "锦业路", "锦业路六十九号"),
                                                   ("锦业路和丈八二路十字那里红绿灯坏了", "锦业路", "锦业路和丈八二路十字"),
                                                   ("园区里面的路灯不亮", "路", None)])
def test_a_place_the_nlu_cut_short_is_kept_whole(action_server, said, place, expected):
    opened = run_action(action_server.url, "validate_ticket_form", text=said, intent="report_problem",
                        entities=[_span(said, "location", place)], slots={})
    assert slot_events(opened)["location"] == expected


def test_giving_up_at_the_read_back_stops_the_filing(action_server):
    from actions.dialogue import leaves_filing

    assert leaves_filing("deny", 0.9, "算了不要了", "ticket_confirmed")


@pytest.mark.parametrize("said", ["园区", "就是园区", "产业园区", "学校"])
def test_a_short_place_word_at_the_category_question_is_no_company(action_server, said):
    assert "company" not in slot_events(answer(action_server, said, "category", category=None))


def test_a_name_said_with_the_company_at_the_name_question_is_kept(action_server):
    slots = slot_events(answer(action_server, "张伟 华清科技有限公司", "contact_name", company="西安华清科技有限公司"))
    assert slots["contact_name"] == "张伟" and "company" not in slots
    named = slot_events(answer(action_server, "我叫王小店", "contact_name", company="西安华清科技有限公司"))
    assert named["contact_name"] == "王小店" and "company" not in named


@pytest.mark.parametrize("said, requested", [("算了不要留电话了", "phone"), ("电话就不要登记了", "phone"),
                                             ("不要登记我的名字", "contact_name"), ("算了不要紧", "ticket_confirmed")])
def test_declining_one_field_is_not_dropping_the_report(said, requested):
    from actions.dialogue import leaves_filing

    assert not leaves_filing("deny", 0.9, said, requested)


def test_a_huh_at_the_phone_offer_hears_the_offer_again(action_server):
    result = answer(action_server, "啊？", "phone", company="嘉兴佳禾纺织有限公司", contact_name="赵敏",
                    phone_offer="13511112222", phone_offered=True)
    assert responses(result) == [] and slot_events(result)["requested_slot"] == "phone"


def test_a_name_corrected_at_the_read_back_is_no_change_of_the_problem(action_server):
    result = run_action(action_server.url, "validate_ticket_form", text="不对 不是王小明 是王晓明的晓", intent="deny",
                        slots={**FILLED, **READ_BACK, "requested_slot": "ticket_confirmed"})
    assert "description" not in slot_events(result)


def test_a_place_is_not_run_on_into_a_street_lamp(action_server):
    from actions.ticket_form import whole_place

    assert whole_place("锦业路", "锦业路和园区的路灯坏了") == "锦业路"


# Round three: the happy paths ----------------------------------------------------------------------

def test_a_company_the_nlu_caught_in_the_middle_of_is_kept_whole(action_server):
    said = "比亚迪西安分公司"
    result = run_action(action_server.url, "validate_ticket_form", text=said,
                        entities=[_span(said, "company", "西安")], slots={**FILLED, "requested_slot": "company"})
    assert slot_events(result)["company"] == "比亚迪西安分公司"


def test_the_name_said_after_what_the_company_does_is_the_company(action_server):
    said = "我们是做软件的 叫易联科技"
    result = run_action(action_server.url, "validate_ticket_form", text=said,
                        entities=[_span(said, "company", "科技")], slots={**FILLED, "requested_slot": "company"})
    assert slot_events(result)["company"] == "易联科技"


def test_the_caller_id_can_be_chosen_again_after_a_no(action_server):
    result = answer(action_server, "就用这个来电号码", "phone", company="嘉兴佳禾纺织有限公司", contact_name="赵敏",
                    caller_phone="13511112222", phone_offer="declined", phone_offered=False)
    assert slot_events(result)["phone"] == "13511112222"


def test_a_name_said_wrong_one_first_at_the_read_back_corrects_the_name(action_server):
    result = run_action(action_server.url, "validate_ticket_form", text="不是周敏是周明明", intent="deny",
                        slots={**FILLED, **READ_BACK, "contact_name": "周敏", "requested_slot": "ticket_confirmed"})
    assert slot_events(result)["contact_name"] == "周明明" and "utter_corrected_contact_name" in responses(result)
