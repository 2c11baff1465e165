"""Telling an answer to the filing form's question from a turn that asks for something else."""
from actions.dialogue import digression, leaves_filing, leaves_followup, resumes_filing


def test_a_follow_up_request_in_the_middle_of_filing_is_not_an_answer():
    assert leaves_filing("check_ticket", 0.9, "等一下 先帮我查一下工单2611270003", "company")
    assert leaves_filing("urge_ticket", 0.8, "我要催办 上周报的那个", "contact_name")
    assert leaves_filing("rate_service", 0.7, "我是想评价一下上次的处理", "description")


def test_dropping_the_report_or_hanging_up_is_not_an_answer():
    assert leaves_filing("deny", 0.9, "算了 不报了", "company")
    assert leaves_filing("deny", 0.9, "不用了", "description")
    assert leaves_filing("deny", 0.8, "那就不登记了", "ticket_confirmed")
    assert leaves_filing("goodbye", 0.9, "先这样吧 我挂了 再见", "phone")


def test_real_answers_stay_answers():
    # "不用了" / "不是" answer the phone question ("use your caller id?") and the read-back.
    assert not leaves_filing("deny", 0.9, "不用了 我留别的号", "phone")
    assert not leaves_filing("deny", 0.9, "不对", "ticket_confirmed")
    assert not leaves_filing("affirm", 0.9, "对 提交吧", "ticket_confirmed")
    assert not leaves_filing("goodbye", 0.6, "好 就这样吧", "ticket_confirmed")
    # A company name misread as a follow-up lacks the words that make it one.
    assert not leaves_filing("check_ticket", 0.6, "西安华清智能科技有限公司", "company")
    assert not leaves_filing("urge_ticket", 0.9, "能不能快点来修 我们等不起", "description")
    # Unsure turns are left to the form.
    assert not leaves_filing("check_ticket", 0.3, "查一下", "company")


def test_side_questions_are_still_digressions():
    assert digression("ask_policy", 0.9, "你们政务大厅几点上班")
    assert digression("request_human", 0.9, "帮我转人工吧")
    assert digression("bot_challenge", 0.9, "你是真人还是机器")
    assert not leaves_filing("ask_policy", 0.9, "你们政务大厅几点上班", "company")


def test_asking_to_hear_the_question_again_is_no_answer():
    for said in ("你刚才说什么", "没听清 再说一遍", "啊？", "什么", "能重复一下吗", "说慢一点", "不好意思 刚才没听到",
                 "没听懂", "没听明白", "啥意思", "什么意思", "号码再报一遍", "重新说一下", "嗯？什么", "嗯什么",
                 "听不清", "大声点", "喂喂 听不见", "你声音太小了", "什么什么", "再来一遍"):
        assert digression("ask_repeat", 0.9, said), said
    # A company name or a report the NLU misread as "say again" has none of the words.
    assert not digression("ask_repeat", 0.9, "西安华清智能科技有限公司")
    assert not digression("ask_repeat", 0.9, "重新装修以后整栋楼都没电了")
    for report in ("楼上每天半夜大声喧哗", "车间噪音太大声音小不了", "火警警报声音很小", "你们这是什么意思 停水三天也不通知",
                   "不对我重新说一下 是三号楼的路灯坏了", "新来的员工听不懂方言", "税务局说什么时候能退税",
                   "他们说的什么都不算数", "再来一个问题"):
        assert not digression("ask_repeat", 0.9, report), report
    assert not digression("ask_repeat", 0.4, "再说一遍")  # unsure: left to the form


def test_picking_up_the_report_left_half_way_leaves_the_follow_up():
    for said in ("继续登记", "算了，继续刚才的登记", "接着刚才的问题说", "刚才那个问题继续报吧", "回到刚才反映的问题"):
        assert resumes_filing(said), said
        assert leaves_followup("report_problem", 0.9, said), said
    for said in ("继续查一下", "接着说", "刚才那个工单查一下", "我们这边继续停电", "之前的问题一直没解决",
                 "我还要继续报修，三号楼又漏水了", "接着报一个新问题：园区停水了", "之前的问题继续发生，现在又停电了",
                 "继续登记一个新问题", "刚才的问题继续发生了", "继续登记另一个问题", "继续登记别的事",
                 "继续登记下一个问题", "我还要继续登记一个", "刚才的问题继续影响生产", "不用继续登记了", "别继续登记了"):
        assert not resumes_filing(said), said
    assert not leaves_followup("report_problem", 0.9, "上次反映的那个问题")  # the ticket asked about
