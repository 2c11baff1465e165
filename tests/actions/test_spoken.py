"""How the actions read what callers say: spoken digits, numbers with spaces, names, ratings."""
import pytest

from actions.categories import infer_category
from actions.settings import Settings
from actions.spoken import (
    company_name, corrections, declines_name, is_specific, person_name, rating_score, request_kind, sounds_angry,
    states_a_score,
)
from contract.phones import find_phone, mask_phone, mask_phones_in_text
from contract.spoken_numbers import find_ticket_id, group_digits

CATEGORIES = Settings.from_env().categories_file


def test_spoken_and_spaced_numbers_are_understood():
    assert find_phone("电话 一 三 八 九 一 二 三 四 五 六 七") == "13891234567"
    assert find_phone("幺三九 九一二三 四五六零") == "13991234560"
    assert find_phone("座机 029-88326677") == "029-88326677"  # the one normal form (contract.phones)
    assert find_ticket_id("编号是 2611 2500 17") == "2611250017"
    assert find_ticket_id("我的电话13891234567") is None  # a mobile number is not a ticket


def test_ticket_numbers_are_grouped_for_reading_out():
    assert group_digits("2611270001") == "2611 2700 01"
    assert group_digits("261127000123") == "2611 2700 0123"


def test_names_are_taken_from_natural_answers():
    assert company_name("我们公司叫西安华清智能科技有限公司") == "西安华清智能科技有限公司"
    assert company_name("喂 那个 单位是高新区第三小学。") == "高新区第三小学"
    assert person_name("我叫张伟") == "张伟"
    assert person_name("我姓李") == "李"
    assert person_name("13891234567") is None


def test_a_refusal_or_a_question_back_is_not_a_name() -> None:
    for answer in ("不想说", "这个不方便透露", "保密", "你问这个干嘛", "为什么要名字？", "不知道"):
        assert person_name(answer) is None, answer
    assert declines_name("不想说") and declines_name("匿名吧") and declines_name("这个不方便透露")
    assert not declines_name("王秀兰") and not declines_name("你问这个干嘛")


def test_corrections_need_a_correction_marker_or_the_read_back():
    assert corrections("不对，电话是13991234560", "contact_name") == {"phone": "13991234560"}
    assert corrections("不对，公司名是西安新智源科技", "phone") == {"company": "西安新智源科技"}
    assert corrections("联系人改成周敏", "ticket_confirmed") == {"contact_name": "周敏"}
    # A description that mentions a company is not a correction of the company name.
    assert corrections("我们公司是做软件的 电费收费不合理", "description") == {}
    # The description: named and replaced, or corrected in passing while another field is asked for.
    assert corrections("问题改一下，是园区空调坏了", "ticket_confirmed") == {"description": "园区空调坏了"}
    assert corrections("不对，问题应该是三号楼停水", "phone") == {"description": "三号楼停水"}
    assert corrections("不对，是空调坏了不是电梯", "company") == {"description_note": "空调坏了不是电梯"}
    assert corrections("不对，是华山科技有限公司", "company") == {}  # a company name, read by the company answer
    assert corrections("不对，是空调坏了不是电梯", "description") == {}  # the description itself
    # Confirmations and refusals are not corrections of the description.
    for said, asked in (("情况就是这样，没有要改的", "ticket_confirmed"), ("内容都是正确的，可以提交", "ticket_confirmed"),
                        ("没问题，就这样提交", "ticket_confirmed"), ("对的，没什么问题了", "ticket_confirmed"),
                        ("内容是对的，没问题，提交吧", "ticket_confirmed"), ("不是，没有别的电话，就用这个", "phone"),
                        ("不是，电话不能留", "phone"), ("不是，我不能告诉你名字", "contact_name")):
        assert corrections(said, asked) == {}, said


def test_ratings_in_words_and_digits():
    assert rating_score("非常满意") == 5
    assert rating_score("我给五分") == 5
    assert rating_score("满意") == 4
    assert rating_score("基本满意吧") == 3
    assert rating_score("不满意 问题根本没解决") == 2
    assert rating_score("非常不满意") == 1
    assert rating_score("打 3 分") == 3
    assert rating_score("随便") is None


@pytest.mark.parametrize("said, score", [
    # A negated praise is no praise: it holds the praise's words ("很满意" in "不是很满意").
    ("不是很满意", 2), ("说实话不怎么满意，拖了好久", 2), ("没有很满意", 2), ("不太好", 2), ("一点都不满意", 1),
    ("太差了", 1),
    # What people say instead of the scale's words.
    ("十分满意", 5), ("很棒", 5), ("不错", 4), ("挺好的", 4), ("很好啊", 4), ("感觉还不错", 4),
    ("还可以吧", 3), ("一般般", 3),
    # A number wins over words, and a ticket number or code beside it is no score.
    ("打三分吧，不太满意", 3), ("评价 2612020004 五分", 5), ("五 分", 5), ("2612020001 5分", 5),
    # Spoken, the ticket number (or code) runs into the score: Vosk writes no pause between them.
    ("二六一二 零二零零 零一五分", 5), ("二六一二零二零零零一 三分", 3), ("九七零四三六两分", 2), ("2612020001五颗星", 5), ("26120200014分", 4),
    ("两分", 2), ("打两分", 2), ("五颗星", 5), ("三颗星", 3), ("五", 5),
    # 分 or 星 that starts another word after the number is no score; the score said later is.
    ("评价一下二六一二零二零零零四 分数 两分 不满意", 2), ("工单二六一二零二零零零五分数一分", 1),
    ("工单二六一二零二零零零五星级评价一星", 1), ("我对工单二六一二零二零零零二星期三那个处理结果非常满意", 5),
    # A courtesy, a double no, "can't call it satisfied".
    ("不好意思 满意", 4), ("没有不满意", 4), ("不是不满意", 4), ("说不上满意", 2), ("谈不上满意", 2), ("不给好评", 2),
    ("没什么不满意的", 4), ("没有差评", 4),
    # A digit that counts something else is no score; the words are.
    ("5号楼的问题没解决", 2), ("我等了3天，非常不满意", 1), ("打了3次电话才解决，不满意", 2), ("打4", 4),
    # A number refused: the words ("一分都不想给": not even the lowest). A number corrected: the new one.
    ("不满意 五分都不想给", 2), ("一分都不想给", 1), ("不值三分 太差了", 1), ("给不了五分 四分吧", 4),
    ("打五分 不 打一分", 1), ("三分 不对 四分", 4), ("五分不给 给四分", 4), ("满分给不了 四分吧", 4), ("满分给不了", 4),
    # Otherwise the first score said: what follows explains it or counts something else.
    ("四分，不是两分", 4), ("我打四分，扣一分是因为慢", 4), ("给3分吧，2分太低", 3), ("给五分 他们三分钟就来了", 5),
    ("三分，等了两星期", 3), ("四分 不能再高了", 4), ("五分 也不知道是啥问题 反正修好了", 5),
    # The top of the scale is no score when one follows.
    ("最高五分我给四分", 4), ("满分五分 我给三分", 3), ("给最高五分", 5), ("万分满意", 5),
    # A question in the turn that is not about the scale.
    ("满意 就是不知道是什么原因停的", 4), ("没听清 反正五分", 5),
    # A score negated where it is said, or taken back for another.
    ("不是五分是两分", 2), ("不是 三分 是 一分", 1), ("五分打不了 三分吧", 3), ("五分不可能 两分", 2),
    ("想给五分 但是 只能给三分", 3), ("本来想给五分的 现在给两分", 2), ("不能给五分 不满意", 2),
    # A range or a half: the lower score. The 二 of 十二分 and the 一分 of 一分一秒 are no scores.
    ("四五分吧", 4), ("三到四分", 3), ("4.5分", 4), ("十二分满意", 5), ("一分一秒都没耽误 五分", 5),
    # A number without 分 after the verb (Vosk drops it), the whole answer, or with 个 before 星.
    ("给 三", 3), ("就 三 吧", 3), ("打分 五", 5), ("我打个五", 5), ("评五", 5), ("给个一", 1), ("给五个星", 5),
    ("打零分", 1), ("零分都不想给", 1),
    # What people around Xi'an say.
    ("中不溜", 3), ("还中", 3), ("不好不坏", 3), ("不咋地", 2), ("贼好", 5), ("杠杠的", 5), ("没麻达", 4), ("差得很", 1),
])
def test_ratings_as_callers_say_them(said: str, score: int) -> None:
    assert rating_score(said) == score


@pytest.mark.parametrize("said", ["不好意思，我想评价一下工单", "我也说不好", "不好说", "不好评价", "好不好", "行不行",
                                  "可以吗", "你们觉得呢？",
                                  # A question about the scale is no rating, whatever score words it holds.
                                  "满意是什么意思", "什么叫基本满意", "啥叫五分", "一到五分是什么意思", "五分是满分吗",
                                  "没听懂 满意还是不满意",
                                  # What a score does, a score promised for later, a score refused and no other.
                                  "五分是最好吗", "给五分会怎么样", "打一分会怎么样", "五分制吗", "满分几分", "打三分的话会重新办吗",
                                  "是不是打一分就会重新处理", "要是解决了就给五分", "解决了再给五分", "不给五分", "没有五分"])
def test_words_that_judge_nothing_are_no_score(said: str) -> None:
    """Asked again rather than read as 2 (不满意), which would send the ticket back."""
    assert rating_score(said) is None


def test_category_and_kind_are_inferred_from_the_report():
    assert infer_category("园区里停电一上午了", CATEGORIES) == "供水供电供气"
    assert infer_category("隔壁工地晚上打桩 噪音太大", CATEGORIES) == "环境噪音"
    assert infer_category("路灯坏了好几天了", CATEGORIES) == "市政设施"
    assert infer_category("我们公司光纤被挖断了", CATEGORIES) == "网络通信"
    assert infer_category("有点事想说", CATEGORIES) is None
    assert request_kind("我要投诉物业") == "complaint"
    assert request_kind("我要举报偷排") == "report"
    assert request_kind("路灯坏了") == "help"


def test_vague_openings_are_not_taken_as_descriptions():
    assert not is_specific("我要反映个问题")
    assert not is_specific("我想发布供需信息")
    assert is_specific("园区里停电一上午了")
    assert is_specific("我们在找做精密加工的合作厂家")


def test_anger_is_recognised():
    assert sounds_angry("什么破机器 气死我了")
    assert sounds_angry("你们到底管不管")
    assert not sounds_angry("路灯坏了 麻烦看一下")
    # Garbage on the street is a report, not an insult; a "garbage hotline" is one.
    assert not sounds_angry("楼下的垃圾好几天没人清理了")
    assert sounds_angry("这什么垃圾热线 找你们主任")


def test_phone_numbers_are_masked():
    assert mask_phone("13891234567") == "138****4567"
    assert mask_phones_in_text("电话13891234567，座机029-88326677") == "电话138****4567，座机029-****6677"


def test_a_score_beside_a_ticket_number_is_told_from_the_number_alone():
    for said in ("工单号二六一二零二零零零二五分", "工单二六一二零二零零四四我打五分", "给2612020045打五分 查询码一三五七九零"):
        assert states_a_score(said), said
    for said in ("工单2612020002", "查一下2612020002 2", "二六一二零二零零零二 五分钟以前打的电话", "五分是满分吗 2612020002",
                 "工单2612020002 已经两星期了", "工单2612020002 一分钱都没退", "2612020002 给5户人家停水",
                 "给2612020002打个电话"):
        assert not states_a_score(said), said


def test_a_name_has_letters():
    assert person_name("😀😀") is None and person_name("……") is None
    assert person_name("王秀兰") == "王秀兰" and person_name("我叫Tom") == "Tom"


@pytest.mark.parametrize("said, asked, found", [
    ("公司名写错了，是温州瑞峰鞋业有限公司", "contact_name", {"company": "温州瑞峰鞋业有限公司"}),
    ("公司名写错了，是温州瑞峰鞋业有限公司", "phone", {"company": "温州瑞峰鞋业有限公司"}),
    ("不对，类别应该是用地规划", "company", {"category_text": "用地规划"}),
    ("类别不对，应该是安全消防", "phone", {"category_text": "安全消防"}),
    ("联系人也不对，叫王建国", "phone", {"contact_name": "王建国"}),
    ("不对，公司是台州路桥华丰塑业有限公司，联系人是林晓芳", "ticket_confirmed",
     {"company": "台州路桥华丰塑业有限公司", "contact_name": "林晓芳"}),
    ("不对，電話是13900001111，联系人是林晓芳", "ticket_confirmed", {"phone": "13900001111", "contact_name": "林晓芳"}),
])
def test_a_correction_of_another_field_or_of_two_is_applied_at_any_question(said, asked, found):
    """A correction while another question is pending used to become that question's answer
    ("类别应该是用地规划" as the company), and the second field of two was lost."""
    assert corrections(said, asked) == found


def test_at_the_read_back_a_forgotten_address_and_a_category_said_against_the_old_one_are_changes():
    assert corrections("还有地址没说，在黄岩区北城开发区永椒路12号", "ticket_confirmed") == {
        "location": "黄岩区北城开发区永椒路12号"}
    assert corrections("不是市政设施，是安全消防", "ticket_confirmed") == {"category_text": "安全消防"}
    # Chinese punctuation stays as typed in what the department reads.
    assert corrections("问题改一下，是厂区这周停了三次电，生产线停了", "ticket_confirmed") == {
        "description": "厂区这周停了三次电，生产线停了"}


@pytest.mark.parametrize("asked", ["company", "contact_name", "phone", "ticket_confirmed"])
def test_a_category_said_against_the_one_taken_is_a_category_correction_at_any_later_question(asked):
    found = corrections("不是市政设施，是供电的问题，厂区已经停电两天了", asked)
    assert list(found) == ["category_text"] and found["category_text"].startswith("供电的问题")
    assert infer_category(found["category_text"], CATEGORIES) == "供水供电供气"


def test_at_the_description_question_a_contrast_is_the_problem_itself():
    assert corrections("不是供水供电供气的问题，是路灯坏了", "description") == {}


@pytest.mark.parametrize("said, kind", [("我想问一下增值税减免的政策", "consult"), ("申请人才补贴需要什么条件", "consult"),
                                        ("园区门口的路灯坏了", "help"), ("我要投诉工地噪音", "complaint")])
def test_a_question_about_rules_is_a_consultation(said: str, kind: str) -> None:
    from actions.spoken import request_kind

    assert request_kind(said) == kind


def test_an_insult_sounds_angry() -> None:
    from actions.spoken import sounds_angry

    assert sounds_angry("你听不懂人话吗 我说我要投诉") and not sounds_angry("员工听不懂方言")
    assert sounds_angry("你们就是一群废物") and sounds_angry("你是不是聋了")
    for report in ("工地的建筑废物乱倒在路边", "固体废物乱倒", "耳朵聋的老人需要帮助"):  # everyday words
        assert not sounds_angry(report), report


@pytest.mark.parametrize("said", ["请问一下污水处理厂排放标准超标了谁管", "请问 补贴一直没发下来 怎么回事",
                                  "我想问问我们园区的物业办理停车卡一直拖着不给办"])
def test_a_fault_or_delay_asked_about_is_no_consultation(said: str) -> None:
    from actions.spoken import request_kind

    assert request_kind(said) == "help"


@pytest.mark.parametrize("name", ["达闼机器人", "西安机器视觉科技"])
def test_a_robot_company_is_a_company(name: str) -> None:
    from actions.spoken import company_name

    assert company_name(name) == name


def test_the_description_corrected_wrong_one_first_at_the_read_back_is_a_correction() -> None:
    from actions.spoken import corrections

    assert corrections("不对不是路灯是园区大门的道闸坏了车进不来", "ticket_confirmed") == {
        "contrast_wrong": "路灯", "contrast_right": "园区大门的道闸坏了车进不来"}
